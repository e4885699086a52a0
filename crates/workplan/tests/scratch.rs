#[test]
fn scratch() {
    let p = std::env::var("WP").unwrap_or_else(|_| "../../examples/home-platform/workplans".into());
    let loaded = platformctl_workplan::load_paths(&[p.into()]).unwrap();
    for f in platformctl_workplan::lint_all(&loaded) {
        println!("{f}");
    }
    let wps: Vec<_> = loaded.into_iter().map(|(w, _)| w).collect();
    print!(
        "{}",
        platformctl_workplan::format_status_table(&platformctl_workplan::status_table(&wps))
    );
}
