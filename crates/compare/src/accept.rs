//! Acknowledged drift (SPEC §9): `spec.drift.accept` entries applied to a plan. Pure.
//!
//! A change matches an entry when the codes are equal, the entry's `field` (if any) is the
//! change's, and the entry's `observed` digest (if any, as `ack` writes it) is the digest of
//! the change's observed value. While the entry's `until` is today or later, a matching change
//! moves from `changes` to `accepted` and no longer makes the module drift; once it has passed
//! the change counts again and the plan says `ACCEPT_EXPIRED`. An active entry that matches
//! nothing in an observed module is `ACCEPT_UNUSED`.

use platformctl_model::AcceptEntry;
use serde::Serialize;

use crate::{ModulePlan, Status, Warning, WarningCode};

/// A change that an entry acknowledges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// The change's field.
    pub field: String,
    /// Its code.
    pub code: String,
    /// What the repo declares.
    pub desired: String,
    /// What the host shows.
    pub observed: String,
    /// Why it is accepted.
    pub reason: String,
    /// The last day (YYYY-MM-DD).
    pub until: String,
    /// Days from today to `until` (0 on the last day).
    pub days_left: i64,
}

/// One change of either kind, as accept matching sees it.
struct Seen {
    field: String,
    code: String,
    desired: String,
    observed: String,
    digest: String,
}

fn matches(e: &AcceptEntry, c: &Seen) -> bool {
    e.code == c.code
        && e.field.as_ref().is_none_or(|f| *f == c.field)
        && e.observed.as_ref().is_none_or(|o| *o == c.digest)
}

impl ModulePlan {
    /// Applies `entries` as of `today`: see the module documentation.
    pub fn apply_accepts(&mut self, entries: &[AcceptEntry], today: jiff::civil::Date) {
        if entries.is_empty() || !matches!(self.status, Status::InSync | Status::Drift) {
            return;
        }
        let active = |e: &AcceptEntry| e.until.is_some_and(|u| u >= today);
        let mut used = vec![false; entries.len()];
        let mut accept = |seen: Seen, warnings: &mut Vec<Warning>, accepted: &mut Vec<Accepted>| {
            for (i, e) in entries.iter().enumerate() {
                if !matches(e, &seen) {
                    continue;
                }
                let until = e.until.map_or(String::new(), |u| u.to_string());
                if active(e) {
                    used[i] = true;
                    let days = e.until.map_or(0, |u| i64::from((u - today).get_days()));
                    accepted.push(Accepted {
                        field: seen.field,
                        code: seen.code,
                        desired: seen.desired,
                        observed: seen.observed,
                        reason: e.reason.clone(),
                        until,
                        days_left: days,
                    });
                    return false;
                }
                used[i] = true;
                warnings.push(Warning::new(
                    WarningCode::AcceptExpired,
                    format!(
                        "{} {} was accepted until {until} ({}); that has passed, so it is drift again",
                        seen.code, seen.field, e.reason
                    ),
                ));
            }
            true
        };
        let mut warnings = Vec::new();
        let mut accepted = Vec::new();
        let changes = std::mem::take(&mut self.changes);
        for c in changes {
            let seen = Seen {
                field: c.field.as_str().to_string(),
                code: c.code.as_str().to_string(),
                desired: c.desired.clone(),
                observed: c.observed.clone(),
                digest: platformctl_evidence::env_digest(&c.observed),
            };
            if accept(seen, &mut warnings, &mut accepted) {
                self.changes.push(c);
            }
        }
        let config = std::mem::take(&mut self.config);
        for c in config {
            let seen = Seen {
                field: c.field.clone(),
                code: c.code.as_str().to_string(),
                desired: c.desired.clone(),
                observed: c.observed.clone(),
                digest: c.observed_digest.clone(),
            };
            if accept(seen, &mut warnings, &mut accepted) {
                self.config.push(c);
            }
        }
        for (e, used) in entries.iter().zip(used) {
            if !used && active(e) {
                warnings.push(Warning::new(
                    WarningCode::AcceptUnused,
                    format!(
                        "the acceptance of {}{} (until {}) matches no current difference: remove it",
                        e.code,
                        e.field.as_ref().map_or(String::new(), |f| format!(" {f}")),
                        e.until.map_or(String::new(), |u| u.to_string())
                    ),
                ));
            }
        }
        self.warnings.extend(warnings);
        self.accepted.extend(accepted);
        if self.status == Status::Drift && !self.has_drift() {
            self.status = Status::InSync;
        }
    }
}
