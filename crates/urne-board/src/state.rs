//! The board's state: every context with its machine, phase, unique keys and domain
//! state. A pure function of the log: built by applying records in log order, both
//! as they become durable and when the board opens.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use urne_record::kinds::CONTEXT_OPEN;
use urne_record::{ContextId, ContextOpen, Record};

use crate::error::Rejection;
use crate::handler::{ContextEntry, ContextMut, NewContext, Registry, SealedParams};

/// Every context's sealed parameters, read by the precheck workers without the state
/// lock (a short read lock on this map only, to clone an `Arc`).
pub(crate) type SealedMap = Arc<RwLock<HashMap<ContextId, SealedParams>>>;

pub(crate) struct BoardState {
    pub(crate) contexts: BTreeMap<ContextId, ContextEntry>,
    pub(crate) origin: String,
    pub(crate) sealed: SealedMap,
    /// True while the board rebuilds the state from the log on opening.
    pub(crate) replaying: bool,
}

impl BoardState {
    pub(crate) fn new(origin: &str) -> Self {
        Self {
            contexts: BTreeMap::new(),
            origin: origin.to_owned(),
            sealed: SealedMap::default(),
            replaying: false,
        }
    }

    /// The sealed parameters of a context, if it has any.
    pub(crate) fn sealed_of(map: &SealedMap, id: &ContextId) -> Option<SealedParams> {
        map.read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Applies a durable record at `index`.
    pub(crate) fn apply(
        &mut self,
        registry: &Registry,
        record: &Record,
        index: u64,
    ) -> Result<(), Rejection> {
        let handler = registry
            .get(record.kind())
            .ok_or_else(|| Rejection::unknown_kind(record.kind().0))?;
        let id = record.context();
        if record.kind() == CONTEXT_OPEN {
            let open = ContextOpen::parse(record.body())?;
            let machine = registry.machine(open.context_type).ok_or_else(|| {
                Rejection::invalid_body(
                    "body.context_type",
                    format!("this board has no context type {}", open.context_type.0),
                )
            })?;
            if self.contexts.contains_key(&id) {
                return Err(Rejection::context_exists(&id.to_hex()));
            }
            let entry = ContextEntry {
                id,
                data: machine.new_context_state(&NewContext {
                    id,
                    open: &open,
                    authority: *record.signer(),
                    origin: &self.origin,
                }),
                sealed: None,
                sealed_changed: false,
                phase: machine.initial_phase(),
                machine: machine.clone(),
                authority: *record.signer(),
                opened_at: index,
                open,
                taken: HashSet::new(),
                records: 1,
            };
            self.contexts.insert(id, entry);
            return Ok(());
        }
        let entry = self
            .contexts
            .get_mut(&id)
            .ok_or_else(|| Rejection::unknown_context(&id.to_hex()))?;
        handler.apply(
            record,
            index,
            &mut ContextMut {
                entry: &mut *entry,
                replaying: self.replaying,
            },
        )?;
        entry.taken.extend(handler.unique_keys(record));
        entry.records += 1;
        if entry.sealed_changed {
            entry.sealed_changed = false;
            if let Some(params) = entry.sealed.clone() {
                self.sealed
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id, params);
            }
        }
        Ok(())
    }
}
