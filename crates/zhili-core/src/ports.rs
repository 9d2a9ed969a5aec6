//! The storage ports a backend offers (端口表): one entry per port trait, looked up by the
//! trait, so a new module adds its own port without widening any shared trait.
//!
//! A backend registers each port it implements (`ports.add::<dyn CaseStore>(store.clone())`);
//! the server and the CLI take what they need (`ports.port::<dyn CaseStore>()`).

use std::any::{type_name, Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// Ports by trait object type (`dyn Store`, `dyn GridStore`, …).
#[derive(Clone, Default)]
pub struct Ports {
    map: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").field("count", &self.map.len()).finish()
    }
}

impl Ports {
    /// Register `port` as the implementation of `P` (replacing an earlier one).
    pub fn add<P: ?Sized + Send + Sync + 'static>(&mut self, port: Arc<P>) -> &mut Ports {
        self.map.insert(TypeId::of::<P>(), Arc::new(port));
        self
    }

    /// The implementation of `P`, if the backend has one.
    pub fn get<P: ?Sized + Send + Sync + 'static>(&self) -> Option<&Arc<P>> {
        self.map.get(&TypeId::of::<P>()).and_then(|a| a.downcast_ref::<Arc<P>>())
    }

    /// The implementation of `P`. Panics naming the port when the backend has none: a build
    /// that wires a module to a backend without its port is a programming error, found at
    /// start-up (modules take their ports when their routes are built).
    pub fn port<P: ?Sized + Send + Sync + 'static>(&self) -> &Arc<P> {
        self.get::<P>().unwrap_or_else(|| panic!("this backend offers no {} port", type_name::<P>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    trait Greet: Send + Sync {
        fn hi(&self) -> &'static str;
    }
    trait Count: Send + Sync {
        fn n(&self) -> i32;
    }
    struct Both;
    impl Greet for Both {
        fn hi(&self) -> &'static str {
            "你好"
        }
    }
    impl Count for Both {
        fn n(&self) -> i32 {
            7
        }
    }

    #[test]
    fn ports_are_found_by_their_trait() {
        let b = Arc::new(Both);
        let mut p = Ports::default();
        p.add::<dyn Greet>(b.clone()).add::<dyn Count>(b);
        assert_eq!(p.port::<dyn Greet>().hi(), "你好");
        assert_eq!(p.port::<dyn Count>().n(), 7);
        let empty = Ports::default();
        assert!(empty.get::<dyn Greet>().is_none());
        let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| empty.port::<dyn Count>().n())).unwrap_err();
        assert!(e.downcast_ref::<String>().unwrap().contains("Count"), "the panic names the port");
    }
}
