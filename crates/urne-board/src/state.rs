//! The board's state: every context with its machine, phase, unique keys and domain
//! state. A pure function of the log: built by applying records in log order, both
//! as they become durable and when the board opens.

use std::collections::{BTreeMap, HashSet};

use urne_record::kinds::CONTEXT_OPEN;
use urne_record::{ContextId, ContextOpen, Record};

use crate::error::Rejection;
use crate::handler::{ContextEntry, ContextMut, Registry};

#[derive(Default)]
pub(crate) struct BoardState {
    pub(crate) contexts: BTreeMap<ContextId, ContextEntry>,
}

impl BoardState {
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
                data: machine.new_state(&open),
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
        handler.apply(record, index, &mut ContextMut { entry: &mut *entry })?;
        entry.taken.extend(handler.unique_keys(record));
        entry.records += 1;
        Ok(())
    }
}
