//! Model parameters (Girder's `modelParam`): an id in the request, the entity in the handler.
//!
//! A parameter marked `x-model: pet` is handed, after validation, to the loader registered
//! for `pet` with [`Options::model_loader`](crate::Options::model_loader). The loaded entity
//! reaches the inner service in the [`Models`] extension; an id the loader does not find
//! answers 404 with `kind` and `id`; a loader error answers 500 without detail. A document
//! naming a model no loader is registered for does not build.
//!
//! ```
//! use oasgate::models::{LoadError, loader_fn};
//! use serde_json::{Value, json};
//!
//! let pets = loader_fn(|id: Value| async move {
//!     Ok::<_, LoadError>((id == json!(1)).then(|| json!({"id": 1, "name": "Rex"})))
//! });
//! let options = oasgate::Options::default().model_loader("pet", pets);
//! # let _ = options;
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

/// A loader could not load (its store is down): answered as 500 without detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

/// Loads an entity by the validated value of its parameter.
pub trait ModelLoader: Send + Sync + 'static {
    /// `Ok(None)` when no entity has this id.
    fn load(
        &self,
        id: Value,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Value>, LoadError>> + Send>>;
}

struct FnLoader<F>(F);

impl<F, Fut> ModelLoader for FnLoader<F>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Value>, LoadError>> + Send + 'static,
{
    fn load(
        &self,
        id: Value,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Value>, LoadError>> + Send>> {
        Box::pin((self.0)(id))
    }
}

/// A [`ModelLoader`] from an async closure.
pub fn loader_fn<F, Fut>(f: F) -> Arc<dyn ModelLoader>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Value>, LoadError>> + Send + 'static,
{
    Arc::new(FnLoader(f))
}

/// The entities loaded for a request's `x-model` parameters, by parameter name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Models(pub HashMap<String, Value>);

impl Models {
    /// The entity loaded for parameter `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}
