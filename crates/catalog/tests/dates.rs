//! Dates are calendar dates: one that does not exist is refused where it is written, never
//! rolled over (`2026-02-31` is not March 3).

use platformctl_catalog::Code;
use platformctl_catalog::module::check_manifest;

const MANIFEST: &str = "apiVersion: platform/v2
kind: Module
metadata:
  name: minio
  description: S3-compatible object store
  owner: ops
  tier: core
spec:
  runtime:
    host: rs2000
    orchestrator: docker-compose
    compose_file: compose/infra/compose.yaml
    compose_service: minio
    desired_state: running
    image_observed: minio/minio:RELEASE.2024-01-16T16-07-38Z
    image_observed_at: DATE
  artifact:
    type: oci-image
    reference: docker.io/minio/minio:RELEASE.2024-01-16T16-07-38Z
";

#[test]
fn image_observed_at_is_a_real_date() {
    let mut out = Vec::new();
    let m = check_manifest(
        &MANIFEST.replace("DATE", "2024-02-29"),
        "minio",
        true,
        &mut out,
    )
    .expect("a model");
    assert!(out.is_empty(), "{out:?}");
    let at = m.runtime.image_observed_at.expect("the date");
    assert_eq!(at.value, jiff::civil::date(2024, 2, 29));
    assert_eq!((at.pos.line, at.pos.col), (16, 24));
}

#[test]
fn an_impossible_date_is_refused_at_its_line_and_column() {
    for bad in ["2026-02-31", "2026-04-31", "2025-02-29", "2026-13-01"] {
        let mut out = Vec::new();
        let m = check_manifest(&MANIFEST.replace("DATE", bad), "minio", true, &mut out)
            .expect("a model");
        assert_eq!(m.runtime.image_observed_at, None, "{bad}");
        assert_eq!(out.len(), 1, "{bad}: {out:?}");
        let f = &out[0];
        assert_eq!(f.code, Code::InvalidValue, "{bad}");
        assert_eq!((f.line, f.column), (16, 24), "{bad}");
        assert!(f.message.contains("is not a date"), "{}", f.message);
    }
}
