//! Step 3, credentials: their presence is checked with the parameters (no await), then the
//! verifier the application plugged in checks them for real.

use super::Rejected;
use crate::plan::{Operation, Plan};
use crate::problem::{Problem, ProblemKind};
use crate::security::{Credential, PresentCredential, Verdict};

impl Plan {
    /// Hands the found credentials to the verifier, one candidate alternative after another:
    /// the first alternative the verifier allows in full lets the request through; when none
    /// is, the first alternative's refusal answers.
    pub(crate) async fn verify<'o>(
        &self,
        op: &'o Operation,
        found: &[PresentCredential],
    ) -> Result<(), Rejected<'o>> {
        let Some(verifier) = &self.options.verifier else {
            return Ok(());
        };
        let mut first_refusal = None;
        for alternative in found.chunk_by(|a, b| a.alternative == b.alternative) {
            let mut refusal = None;
            for f in alternative {
                let verdict = verifier
                    .verify(Credential {
                        scheme: &f.requirement.scheme,
                        kind: &f.requirement.check.kind,
                        scopes: &f.requirement.scopes,
                        value: &f.value,
                    })
                    .await;
                if verdict != Verdict::Allow {
                    refusal = Some(verdict);
                    break;
                }
            }
            match refusal {
                None => return Ok(()),
                Some(verdict) => {
                    first_refusal.get_or_insert(verdict);
                }
            }
        }
        let problem = match first_refusal {
            None | Some(Verdict::Allow) => return Ok(()),
            Some(Verdict::Unauthenticated(reason)) => {
                let mut p = Problem::new(ProblemKind::Unauthorized, reason);
                p.challenge = op.security.challenge(Some("invalid_token"));
                p
            }
            Some(Verdict::Forbidden(reason)) => {
                let mut p = Problem::new(ProblemKind::Forbidden, reason);
                p.challenge = op.security.challenge(Some("insufficient_scope"));
                p
            }
            Some(Verdict::Failed) => Problem::new(
                ProblemKind::VerifierFailed,
                "credentials could not be checked",
            ),
        };
        Err(Rejected::new(problem, Some(op)))
    }
}

#[cfg(test)]
mod tests {
    use crate::options::Options;
    use crate::request::testing::{parts, plan};
    use crate::security::{Verdict, verifier_fn};

    /// (the key sent, the status: present and verified, 401 missing or refused, 403, 500).
    #[tokio::test]
    async fn credentials() {
        let verifier = verifier_fn(|credential| {
            let verdict = match credential.value {
                "good" => Verdict::Allow,
                "scoped" => Verdict::Forbidden("short of scope".into()),
                "down" => Verdict::Failed,
                _ => Verdict::Unauthenticated("unknown key".into()),
            };
            async move { verdict }
        });
        let plan = plan(Options::default().verifier(verifier));
        let op = &plan.operations[1];
        let rows: &[(Option<&str>, u16)] = &[
            (Some("good"), 200),
            (None, 401),
            (Some("bad"), 401),
            (Some("scoped"), 403),
            (Some("down"), 500),
        ];
        for (key, want) in rows {
            let headers: Vec<(&str, &str)> = key.iter().map(|k| ("x-key", *k)).collect();
            let head = parts("POST", "/pets", &headers);
            let status = match op.security.find(&head.headers, &[]) {
                Err(problem) => problem.status,
                Ok(present) => match plan.verify(op, &present).await {
                    Ok(()) => 200,
                    Err(rejected) => rejected.problem.status,
                },
            };
            assert_eq!(status, *want, "{key:?}");
        }
    }
}
