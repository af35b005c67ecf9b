//! Step 5, models: the entities of `x-model` parameters, loaded before the handler runs.

use serde_json::Value;

use super::Rejected;
use crate::models::Models;
use crate::params::Location;
use crate::plan::{Operation, Plan};
use crate::problem::{Problem, ProblemKind};
use crate::validated::Validated;

impl Plan {
    /// Loads the entities of `x-model` parameters; a missing one answers 404 with its kind and id.
    pub(crate) async fn load_models<'o>(
        &self,
        op: &'o Operation,
        validated: &Validated,
    ) -> Result<Option<Models>, Rejected<'o>> {
        let mut models = Models::default();
        for p in op.params() {
            let Some(kind) = &p.model else {
                continue;
            };
            let values = match p.location {
                Location::Path => &validated.path,
                Location::Query => &validated.query,
                Location::Header => &validated.header,
                Location::Cookie => &validated.cookie,
            };
            let Some(id) = values.get(&*p.name) else {
                continue;
            };
            let Some(loader) = self.models.get(&**kind) else {
                continue;
            };
            match loader.load(id.clone()).await {
                Ok(Some(entity)) => {
                    models.0.insert(String::from(&*p.name), entity);
                }
                Ok(None) => {
                    let mut problem =
                        Problem::new(ProblemKind::NotFound, format!("no {kind} has the id {id}"));
                    problem.extra.insert("kind".into(), Value::from(&**kind));
                    problem.extra.insert("id".into(), id.clone());
                    return Err(Rejected::new(problem, Some(op)));
                }
                Err(e) => {
                    tracing::error!(target: "oasgate::rejection", model = %kind, error = %e, "model loader failed");
                    let problem = Problem::new(
                        ProblemKind::LoaderFailed,
                        format!("the {kind} could not be loaded"),
                    );
                    return Err(Rejected::new(problem, Some(op)));
                }
            }
        }
        Ok((!models.0.is_empty()).then_some(models))
    }
}
