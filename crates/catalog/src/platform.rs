//! `platform.toml`: the inventory of hosts and how to reach them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use platformctl_yaml::Pos;
use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::finding::{Code, Finding, Severity};
use crate::names;
use platformctl_diagnostics::LineIndex;

use crate::source::{PLATFORM_MAX_BYTES, read_text};

/// The inventory file's name.
pub const PLATFORM_FILE: &str = "platform.toml";

/// How platformctl reaches a host's Docker engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// One multiplexed OpenSSH connection.
    Ssh,
    /// The Docker socket of this machine.
    Local,
}

/// A host of the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    /// Its name (the `[hosts.NAME]` key).
    pub name: String,
    /// How to reach it.
    pub transport: Transport,
    /// The ssh destination (`deploy@rs2000`, `ssh://user@host:port`, an alias).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
    /// The Docker socket on that host.
    pub docker_socket: String,
    /// Seconds to wait for the connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout_s: Option<u64>,
    /// `[hosts.NAME.apply]`: how `apply` changes this host (absent: it cannot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<ApplySettings>,
    /// Where `[hosts.NAME]` is written.
    #[serde(skip)]
    pub pos: Pos,
}

/// `[hosts.NAME.apply]`: where the host's checkout of the platform repo is and how compose
/// is run there (SPEC §10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApplySettings {
    /// The checkout of the platform repo on the host (absolute); compose files are named
    /// relative to it, as in the repo.
    pub platform_dir: String,
    /// The compose command, as words (`docker compose`, `docker-compose`); each word plain
    /// characters only.
    pub compose_command: Vec<String>,
}

/// The compose command when `[hosts.NAME.apply]` does not name one.
pub const DEFAULT_COMPOSE_COMMAND: &str = "docker compose";

/// A word of `compose_command`: letters, digits and `.` `_` `-` `/` `=` only (no shell).
pub fn check_command_word(w: &str) -> Result<(), String> {
    if w.is_empty() {
        return Err("an empty word".into());
    }
    if let Some(bad) = w
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '=')))
    {
        return Err(format!(
            "`{w}` contains {bad:?}: only plain words are allowed"
        ));
    }
    Ok(())
}

/// The parsed inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Platform {
    /// `[platform] name`.
    pub name: String,
    /// The `com.docker.compose.project` label of the platform's containers.
    pub compose_project: String,
    /// `[ssh] config` as written: relative to the root, absolute, or `~/…` (see
    /// [`Platform::ssh_config_file`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_config: Option<PathBuf>,
    /// Hosts by name.
    pub hosts: BTreeMap<String, Host>,
    /// `[registry]`: registry truth settings.
    #[serde(skip_serializing_if = "RegistrySettings::is_default")]
    pub registry: RegistrySettings,
    /// `[hosts.NAME]` tables that are declared but unusable (an unknown transport, not a
    /// table, a missing field): platform.toml's findings say why, so a module naming one is
    /// not also told its host "is not in platform.toml".
    #[serde(skip)]
    pub rejected_hosts: BTreeSet<String>,
}

/// `[registry]` in platform.toml.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegistrySettings {
    /// `check = true`: `drift-check` asks the registries as with `--registry` (unless
    /// `--no-registry`). Default false.
    pub check: bool,
}

impl RegistrySettings {
    fn is_default(&self) -> bool {
        *self == RegistrySettings::default()
    }
}

impl Platform {
    /// The ssh client config file to pass to `ssh -F`, resolved: a relative `[ssh] config` is
    /// relative to `root`, `~/…` to the user's home directory, an absolute one is itself.
    pub fn ssh_config_file(&self, root: &Path) -> Option<PathBuf> {
        let written = self.ssh_config.as_deref()?;
        Some(resolve_ssh_config(
            written,
            root,
            std::env::home_dir().as_deref(),
        ))
    }

    /// The error findings among `findings` that are platform.toml's: when there is one, the
    /// inventory does not validate, and drift commands stop before connecting anywhere.
    pub fn errors_in(findings: &[Finding]) -> Vec<&Finding> {
        findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.file == Path::new(PLATFORM_FILE))
            .collect()
    }
}

/// Resolves `[ssh] config` as written (see [`Platform::ssh_config_file`]); `home` is the
/// user's home directory (`~/x` stays as written when there is none, and ssh says so).
pub fn resolve_ssh_config(written: &Path, root: &Path, home: Option<&Path>) -> PathBuf {
    if let Ok(rest) = written.strip_prefix("~")
        && let Some(home) = home
    {
        return home.join(rest);
    }
    if written.is_absolute() || written.starts_with("~") {
        return written.to_path_buf();
    }
    root.join(written)
}

/// `[ssh] config`: relative to the root (inside it), absolute, or `~/…`.
fn check_ssh_config(c: &str) -> Result<(), (Code, String)> {
    if let Some(bad) = c.chars().find(|c| c.is_control()) {
        return Err((
            Code::TargetInvalid,
            format!(
                "[ssh] config: the path contains {}",
                names::describe_bad(bad)
            ),
        ));
    }
    if c.starts_with('~') && c != "~" && !c.starts_with("~/") {
        return Err((
            Code::InvalidValue,
            format!("[ssh] config `{c}`: only `~/…` (your own home) is expanded, not `~user/…`"),
        ));
    }
    if c == "~" || c == "~/" || c.ends_with('/') {
        return Err((
            Code::InvalidValue,
            format!("[ssh] config `{c}` names a folder, not an ssh config file"),
        ));
    }
    if c.starts_with('/') || c.starts_with("~/") {
        return Ok(());
    }
    names::check_rel_path(c).map_err(|m| (Code::PathOutsideRoot, format!("[ssh] config: {m}")))
}

/// What went wrong loading platform.toml so that nothing else can be checked.
#[derive(Clone, Debug)]
pub struct PlatformError(pub Finding);

/// Loads `root/platform.toml`. A file that cannot be read or parsed is a [`PlatformError`];
/// problems with its content are findings beside a best-effort model.
pub fn load_platform(root: &Path, strict: bool) -> Result<(Platform, Vec<Finding>), PlatformError> {
    let rel = Path::new(PLATFORM_FILE);
    let text = match read_text(root, rel, PLATFORM_MAX_BYTES) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(PlatformError(Finding::at_file(
                Code::IoError,
                rel,
                format!("no {PLATFORM_FILE} in {}", root.display()),
            )));
        }
        Err(f) => return Err(PlatformError(f)),
    };
    parse_platform(&text, strict)
}

/// Parses the text of a platform.toml.
pub fn parse_platform(text: &str, strict: bool) -> Result<(Platform, Vec<Finding>), PlatformError> {
    let rel = Path::new(PLATFORM_FILE);
    let lines = LineIndex::new(text);
    let table = DeTable::parse(text).map_err(|e| {
        let pos = e.span().map_or(Pos::new(1, 1), |s| lines.pos(s.start));
        let msg = e.message().trim().to_string();
        let code = if msg.contains("duplicate") {
            Code::DuplicateKey
        } else {
            Code::Syntax
        };
        PlatformError(Finding::new(
            code,
            rel,
            pos,
            format!("{PLATFORM_FILE} is not valid TOML: {msg}"),
        ))
    })?;
    let mut cx = Cx {
        lines: &lines,
        findings: Vec::new(),
        strict,
    };
    let table = table.get_ref();
    cx.known(table, "", &["platform", "ssh", "hosts", "registry"]);

    let mut platform = Platform {
        name: String::new(),
        compose_project: String::new(),
        ssh_config: None,
        hosts: BTreeMap::new(),
        registry: RegistrySettings::default(),
        rejected_hosts: BTreeSet::new(),
    };
    if let Some((t, _)) = cx.table(table, "platform", true) {
        cx.known(t, "platform", &["name", "compose_project"]);
        if let Some((name, pos)) = cx.string(t, "platform", "name", true) {
            if let Err(m) = names::check_ident(&name) {
                cx.push(Finding::new(
                    Code::NameInvalid,
                    rel,
                    pos,
                    format!("platform name: {m}"),
                ));
            }
            platform.name = name;
        }
        if let Some((p, pos)) = cx.string(t, "platform", "compose_project", true) {
            if let Err(m) = compose_project_ok(&p) {
                cx.push(Finding::new(Code::NameInvalid, rel, pos, m));
            }
            platform.compose_project = p;
        }
    }
    if let Some((t, _)) = cx.table(table, "ssh", false) {
        cx.known(t, "ssh", &["config"]);
        if let Some((c, pos)) = cx.string(t, "ssh", "config", false) {
            match check_ssh_config(&c) {
                Ok(()) => platform.ssh_config = Some(PathBuf::from(c)),
                Err((code, m)) => cx.push(
                    Finding::new(code, rel, pos, m)
                        .hint("a path relative to the platform root, an absolute path, or ~/…"),
                ),
            }
        }
    }
    if let Some((t, _)) = cx.table(table, "registry", false) {
        cx.known(t, "registry", &["check"]);
        if let Some((_, v)) = Cx::get(t, "check") {
            match v.get_ref() {
                DeValue::Boolean(b) => platform.registry.check = *b,
                _ => cx.push(
                    Finding::new(
                        Code::WrongType,
                        rel,
                        lines.pos(v.span().start),
                        "`registry.check` must be true or false",
                    )
                    .width(width(v.span())),
                ),
            }
        }
    }
    if let Some((hosts, _)) = cx.table(table, "hosts", true) {
        for (key, value) in hosts {
            let name = key.get_ref().to_string();
            let key_pos = lines.pos(key.span().start);
            if let Err(m) = names::check_ident(&name) {
                cx.push(
                    Finding::new(Code::NameInvalid, rel, key_pos, format!("host name: {m}"))
                        .width(width(key.span())),
                );
                continue;
            }
            let section = format!("hosts.{name}");
            let DeValue::Table(t) = value.get_ref() else {
                cx.push(Finding::new(
                    Code::WrongType,
                    rel,
                    key_pos,
                    format!("[{section}] must be a table"),
                ));
                platform.rejected_hosts.insert(name);
                continue;
            };
            match cx.host(t, &name, &section, key_pos) {
                Some(host) => {
                    platform.hosts.insert(name, host);
                }
                None => {
                    platform.rejected_hosts.insert(name);
                }
            }
        }
        if hosts.is_empty() {
            cx.push(
                Finding::at_file(Code::MissingField, rel, "no [hosts.NAME] in platform.toml")
                    .hint("add a host: [hosts.rs2000] transport = \"ssh\" ssh = \"deploy@rs2000\""),
            );
        }
    }
    let mut findings = cx.findings;
    let mut found = Vec::new();
    secrets_in(table, rel, &lines, &mut findings, &mut found);
    crate::module::scrub(&mut findings, &found);
    Ok((platform, findings))
}

fn compose_project_ok(p: &str) -> Result<(), String> {
    // Compose project names: lowercase letters, digits, dashes and underscores, starting with
    // a letter or digit.
    if !p.is_empty()
        && p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(format!(
            "compose_project `{p}` is not a compose project name (a-z 0-9 - _, starting with a letter or digit)"
        ))
    }
}

fn width(span: std::ops::Range<usize>) -> u32 {
    u32::try_from(span.len()).unwrap_or(1)
}

struct Cx<'a> {
    lines: &'a LineIndex<'a>,
    findings: Vec<Finding>,
    strict: bool,
}

type Tbl<'i> = DeTable<'i>;

impl<'a> Cx<'a> {
    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }

    fn rel(&self) -> &'static Path {
        Path::new(PLATFORM_FILE)
    }

    fn known(&mut self, t: &Tbl<'_>, section: &str, fields: &[&str]) {
        for (k, _) in t {
            let name = k.get_ref();
            if !fields.contains(&name.as_ref()) {
                let at = if section.is_empty() {
                    name.to_string()
                } else {
                    format!("{section}.{name}")
                };
                let mut f = Finding::new(
                    Code::UnknownField,
                    self.rel(),
                    self.lines.pos(k.span().start),
                    format!("unknown field `{at}` in {PLATFORM_FILE}"),
                )
                .width(width(k.span()))
                .hint(format!("known here: {}", fields.join(", ")));
                if self.strict {
                    f.severity = Severity::Error;
                }
                self.push(f);
            }
        }
    }

    fn get<'t, 'i>(
        t: &'t Tbl<'i>,
        key: &str,
    ) -> Option<(
        &'t Spanned<std::borrow::Cow<'i, str>>,
        &'t Spanned<DeValue<'i>>,
    )> {
        t.iter().find(|(k, _)| k.get_ref() == key)
    }

    fn table<'t, 'i>(
        &mut self,
        t: &'t Tbl<'i>,
        key: &str,
        required: bool,
    ) -> Option<(&'t Tbl<'i>, Pos)> {
        match Self::get(t, key) {
            Some((k, v)) => match v.get_ref() {
                DeValue::Table(inner) => Some((inner, self.lines.pos(k.span().start))),
                _ => {
                    self.push(Finding::new(
                        Code::WrongType,
                        self.rel(),
                        self.lines.pos(v.span().start),
                        format!("`{key}` must be a table ([{key}])"),
                    ));
                    None
                }
            },
            None => {
                if required {
                    self.push(Finding::at_file(
                        Code::MissingField,
                        self.rel(),
                        format!("missing [{key}] in {PLATFORM_FILE}"),
                    ));
                }
                None
            }
        }
    }

    fn string(
        &mut self,
        t: &Tbl<'_>,
        section: &str,
        key: &str,
        required: bool,
    ) -> Option<(String, Pos)> {
        match Self::get(t, key) {
            Some((_, v)) => {
                let pos = self.lines.pos(v.span().start);
                match v.get_ref() {
                    DeValue::String(s) => Some((s.to_string(), pos)),
                    _ => {
                        self.push(
                            Finding::new(
                                Code::WrongType,
                                self.rel(),
                                pos,
                                format!("`{section}.{key}` must be a string"),
                            )
                            .width(width(v.span())),
                        );
                        None
                    }
                }
            }
            None => {
                if required {
                    self.push(Finding::at_file(
                        Code::MissingField,
                        self.rel(),
                        format!("missing `{key}` in [{section}]"),
                    ));
                }
                None
            }
        }
    }

    fn host(&mut self, t: &Tbl<'_>, name: &str, section: &str, pos: Pos) -> Option<Host> {
        self.known(
            t,
            section,
            &[
                "transport",
                "ssh",
                "docker_socket",
                "connect_timeout_s",
                "apply",
            ],
        );
        let rel = self.rel();
        let transport = match self.string(t, section, "transport", true) {
            Some((s, _)) if s == "ssh" => Transport::Ssh,
            Some((s, _)) if s == "local" => Transport::Local,
            Some((s, p)) => {
                self.push(
                    Finding::new(
                        Code::InvalidValue,
                        rel,
                        p,
                        format!("transport `{s}` is not known"),
                    )
                    .hint("allowed: ssh | local"),
                );
                return None;
            }
            None => return None,
        };
        let ssh = self.string(t, section, "ssh", transport == Transport::Ssh);
        if let Some((s, p)) = &ssh
            && let Err(m) = names::check_ssh_target(s)
        {
            self.push(Finding::new(
                Code::TargetInvalid,
                rel,
                *p,
                format!("[{section}] ssh: {m}"),
            ));
        }
        let docker_socket = match self.string(t, section, "docker_socket", false) {
            Some((s, p)) => {
                if let Err(m) = names::check_socket_path(&s) {
                    self.push(Finding::new(
                        Code::TargetInvalid,
                        rel,
                        p,
                        format!("[{section}] {m}"),
                    ));
                }
                s
            }
            None => "/var/run/docker.sock".to_string(),
        };
        let connect_timeout_s = match Self::get(t, "connect_timeout_s") {
            Some((_, v)) => {
                match v.get_ref() {
                    DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                        Ok(n) if (1..=600).contains(&n) => u64::try_from(n).ok(),
                        _ => {
                            self.push(Finding::new(
                            Code::InvalidValue,
                            rel,
                            self.lines.pos(v.span().start),
                            format!("[{section}] connect_timeout_s must be between 1 and 600 seconds"),
                        ));
                            None
                        }
                    },
                    _ => {
                        self.push(Finding::new(
                            Code::WrongType,
                            rel,
                            self.lines.pos(v.span().start),
                            format!("[{section}] connect_timeout_s must be an integer (seconds)"),
                        ));
                        None
                    }
                }
            }
            None => None,
        };
        let apply = self.apply(t, section);
        Some(Host {
            name: name.to_string(),
            transport,
            ssh: ssh.map(|(s, _)| s),
            docker_socket,
            connect_timeout_s,
            apply,
            pos,
        })
    }

    /// `[hosts.NAME.apply]`: `platform_dir` (required, absolute, plain characters) and
    /// `compose_command` (plain words; default `docker compose`).
    fn apply(&mut self, t: &Tbl<'_>, host_section: &str) -> Option<ApplySettings> {
        let section = format!("{host_section}.apply");
        let (at, _) = self.table(t, "apply", false)?;
        self.known(at, &section, &["platform_dir", "compose_command"]);
        let rel = self.rel();
        let (dir, p) = self.string(at, &section, "platform_dir", true)?;
        if let Err(m) = names::check_socket_path(&dir) {
            let m = m.replace("the docker socket", "platform_dir");
            self.push(Finding::new(
                Code::TargetInvalid,
                rel,
                p,
                format!("[{section}] {m}"),
            ));
            return None;
        }
        let compose_command = match self.string(at, &section, "compose_command", false) {
            Some((c, p)) => {
                let words: Vec<String> = c.split_whitespace().map(str::to_string).collect();
                if words.is_empty() {
                    self.push(Finding::new(
                        Code::InvalidValue,
                        rel,
                        p,
                        format!("[{section}] compose_command is empty"),
                    ));
                    return None;
                }
                if let Some(m) = words.iter().find_map(|w| check_command_word(w).err()) {
                    self.push(
                        Finding::new(
                            Code::TargetInvalid,
                            rel,
                            p,
                            format!("[{section}] compose_command: {m}"),
                        )
                        .hint(
                            "e.g. `docker compose` or `docker-compose`; it is never run by a shell",
                        ),
                    );
                    return None;
                }
                words
            }
            None => DEFAULT_COMPOSE_COMMAND
                .split(' ')
                .map(str::to_string)
                .collect(),
        };
        Some(ApplySettings {
            platform_dir: dir,
            compose_command,
        })
    }
}

fn secrets_in(
    t: &Tbl<'_>,
    rel: &Path,
    lines: &LineIndex<'_>,
    out: &mut Vec<Finding>,
    found: &mut Vec<String>,
) {
    for (k, v) in t {
        match v.get_ref() {
            DeValue::String(s) => {
                if let Some(hit) = platformctl_secrets::scan_pair(k.get_ref(), s) {
                    out.push(
                        Finding::new(
                            Code::Secret,
                            rel,
                            lines.pos(v.span().start),
                            format!("`{}` holds {}", k.get_ref(), hit.kind.describe()),
                        )
                        .hint("platform.toml holds no secrets: use the ssh agent or a secret store")
                        .redacted(),
                    );
                    found.push(s.to_string());
                }
            }
            DeValue::Table(inner) => secrets_in(inner, rel, lines, out, found),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
[platform]
name = "home-platform"
compose_project = "home-platform"

[ssh]
config = "ops/ssh_config"

[hosts.rs2000]
transport = "ssh"
ssh = "deploy@rs2000"
connect_timeout_s = 10

[hosts.laptop]
transport = "local"
"#;

    #[test]
    fn parses_the_spec_example() {
        let (p, f) = parse_platform(OK, false).unwrap();
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(p.compose_project, "home-platform");
        assert_eq!(p.hosts["rs2000"].transport, Transport::Ssh);
        assert_eq!(p.hosts["rs2000"].connect_timeout_s, Some(10));
        assert_eq!(p.hosts["laptop"].docker_socket, "/var/run/docker.sock");
        assert_eq!(p.ssh_config.as_deref(), Some(Path::new("ops/ssh_config")));
    }

    #[test]
    fn apply_settings() {
        let (p, f) = parse_platform(OK, false).unwrap();
        assert!(f.is_empty() && p.hosts["rs2000"].apply.is_none(), "{f:?}");
        let t = format!("{OK}\n[hosts.rs2000.apply]\nplatform_dir = \"/srv/platform\"\n");
        let (p, f) = parse_platform(&t, false).unwrap();
        assert!(f.is_empty(), "{f:?}");
        let a = p.hosts["rs2000"].apply.as_ref().unwrap();
        assert_eq!(a.platform_dir, "/srv/platform");
        assert_eq!(a.compose_command, ["docker", "compose"]);
        let t = t.replace(
            "platform_dir = \"/srv/platform\"",
            "platform_dir = \"/srv/platform\"\ncompose_command = \"docker-compose\"",
        );
        let (p, _) = parse_platform(&t, false).unwrap();
        let a = p.hosts["rs2000"].apply.as_ref().unwrap();
        assert_eq!(a.compose_command, ["docker-compose"]);
        for (bad, code) in [
            (
                "compose_command = \"docker compose; rm -rf /\"",
                Code::TargetInvalid,
            ),
            ("compose_command = \"$(touch x)\"", Code::TargetInvalid),
            ("compose_command = \" \"", Code::InvalidValue),
            ("platform_dir = \"srv\"", Code::TargetInvalid),
            ("platform_dir = \"/srv/a b\"", Code::TargetInvalid),
        ] {
            let key = bad.split(' ').next().unwrap();
            let mut t = format!("{OK}\n[hosts.rs2000.apply]\n{bad}\n");
            if key != "platform_dir" {
                t.push_str("platform_dir = \"/srv/platform\"\n");
            }
            let (p, f) = parse_platform(&t, false).unwrap();
            assert!(f.iter().any(|f| f.code == code), "{bad}: {f:?}");
            assert!(p.hosts["rs2000"].apply.is_none(), "{bad}");
        }
    }

    #[test]
    fn syntax_error_is_fatal_with_position() {
        let e = parse_platform("[platform\nname = 1\n", false).unwrap_err();
        assert_eq!(e.0.code, Code::Syntax);
        assert_eq!(e.0.line, 1);
    }

    #[test]
    fn duplicate_table_is_fatal() {
        let e = parse_platform(
            "[hosts.a]\ntransport='local'\n[hosts.a]\ntransport='local'\n",
            false,
        )
        .unwrap_err();
        assert_eq!(e.0.line, 3);
    }

    #[test]
    fn option_injection_in_ssh_target_is_refused() {
        let t = OK.replace("deploy@rs2000", "-oProxyCommand=touch /tmp/pwned");
        let (_, f) = parse_platform(&t, false).unwrap();
        assert!(
            f.iter()
                .any(|f| f.code == Code::TargetInvalid && f.line == 11),
            "{f:?}"
        );
    }

    #[test]
    fn unknown_fields_warn_or_fail_under_strict() {
        let t = OK.replace("connect_timeout_s = 10", "connect_timeout = 10");
        let (_, f) = parse_platform(&t, false).unwrap();
        assert_eq!(f[0].code, Code::UnknownField);
        assert_eq!(f[0].severity, Severity::Warning);
        let (_, f) = parse_platform(&t, true).unwrap();
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn registry_check() {
        let (p, f) = parse_platform(OK, false).unwrap();
        assert!(!p.registry.check && f.is_empty(), "{f:?}");
        let t = format!("{OK}\n[registry]\ncheck = true\n");
        let (p, f) = parse_platform(&t, true).unwrap();
        assert!(p.registry.check && f.is_empty(), "{f:?}");
        let t = format!("{OK}\n[registry]\ncheck = \"yes\"\nttl = 5\n");
        let (p, f) = parse_platform(&t, false).unwrap();
        assert!(!p.registry.check);
        let codes: Vec<Code> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, [Code::UnknownField, Code::WrongType], "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("registry.ttl"), "{f:?}");
        let check_line = t.lines().position(|l| l.starts_with("check")).unwrap() + 1;
        assert_eq!((f[1].line, f[1].column), (check_line as u32, 9));
    }

    #[test]
    fn bad_host_name_and_transport() {
        let t = OK.replace("[hosts.laptop]", "[hosts.\"lap top\"]");
        let (p, f) = parse_platform(&t, false).unwrap();
        assert!(f.iter().any(|f| f.code == Code::NameInvalid));
        assert!(!p.hosts.contains_key("lap top"));
        let t = OK.replace("transport = \"local\"", "transport = \"telnet\"");
        let (_, f) = parse_platform(&t, false).unwrap();
        assert!(f.iter().any(|f| f.code == Code::InvalidValue));
    }

    #[test]
    fn ssh_config_relative_absolute_or_home() {
        for (written, want) in [
            ("ops/ssh_config", "/repo/ops/ssh_config"),
            ("/etc/platform/ssh_config", "/etc/platform/ssh_config"),
            ("~/.ssh/platform_config", "/home/op/.ssh/platform_config"),
        ] {
            let t = OK.replace("ops/ssh_config", written);
            let (p, f) = parse_platform(&t, false).unwrap();
            assert!(f.is_empty(), "{written}: {f:?}");
            assert_eq!(p.ssh_config.as_deref(), Some(Path::new(written)));
            let got = resolve_ssh_config(
                p.ssh_config.as_deref().unwrap(),
                Path::new("/repo"),
                Some(Path::new("/home/op")),
            );
            assert_eq!(got, Path::new(want), "{written}");
        }
        // Without a home directory `~/…` stays as written (ssh then says it cannot open it).
        assert_eq!(
            resolve_ssh_config(Path::new("~/x"), Path::new("/repo"), None),
            Path::new("~/x")
        );
    }

    #[test]
    fn ssh_config_that_cannot_be_used_is_an_error_finding() {
        for (written, code) in [
            ("../outside", Code::PathOutsideRoot),
            ("~deploy/.ssh/config", Code::InvalidValue),
            ("ops/", Code::InvalidValue),
            ("", Code::PathOutsideRoot),
            ("ops/ssh\\u0007config", Code::TargetInvalid),
        ] {
            let t = OK.replace("ops/ssh_config", written);
            let (p, f) = parse_platform(&t, false).unwrap();
            assert_eq!(p.ssh_config, None, "{written}");
            let errors = Platform::errors_in(&f);
            assert_eq!(errors.len(), 1, "{written}: {f:?}");
            assert_eq!(errors[0].code, code, "{written}");
            assert_eq!((errors[0].line, errors[0].column), (7, 10), "{written}");
        }
    }

    #[test]
    fn a_rejected_host_is_remembered_not_forgotten() {
        let t = OK.replace("transport = \"local\"", "transport = \"telnet\"");
        let (p, f) = parse_platform(&t, false).unwrap();
        assert!(!p.hosts.contains_key("laptop"));
        assert!(p.rejected_hosts.contains("laptop"));
        let errors = Platform::errors_in(&f);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("telnet"), "{:?}", errors[0]);
        // A valid platform.toml has no errors and no rejected hosts.
        let (p, f) = parse_platform(OK, false).unwrap();
        assert!(p.rejected_hosts.is_empty() && Platform::errors_in(&f).is_empty());
    }
}
