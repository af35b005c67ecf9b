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
            let Some(id) = values.get(&p.name) else {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::models::{LoadError, loader_fn};
    use crate::options::Options;
    use crate::request::testing::plan;
    use crate::validated::Validated;

    /// (the owner id, what loading gives: the entity, or the status).
    #[tokio::test]
    async fn models() {
        let loader = loader_fn(|id| async move {
            match id.as_i64() {
                Some(1) => Ok(Some(json!({"name": "ada"}))),
                Some(2) => Ok(None),
                _ => Err(LoadError("the store is down".into())),
            }
        });
        let plan = plan(Options::default().model_loader("person", loader));
        let op = &plan.operations[2];
        let rows: &[(i64, Result<serde_json::Value, u16>)] = &[
            (1, Ok(json!({"owner": {"name": "ada"}}))),
            (2, Err(404)),
            (3, Err(500)),
        ];
        for (id, want) in rows {
            let mut validated = Validated::default();
            validated.query.insert("owner", json!(id));
            let got = match plan.load_models(op, &validated).await {
                Ok(models) => Ok(serde_json::to_value(models.unwrap().0).unwrap()),
                Err(rejected) => Err(rejected.problem.status),
            };
            assert_eq!(&got, want, "{id}");
        }
    }
}
