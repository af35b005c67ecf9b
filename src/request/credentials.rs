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
                        kind: &f.requirement.kind,
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
