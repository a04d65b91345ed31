//! An evaluator's state as bytes: a tag, a hash of the formula text (so a state saved
//! by another formula is refused), the bars seen, then each stateful node's state in
//! plan order (kernels through their own `save`/`load`, lookbacks their last values).
use super::bars::{BarsSince, Count, Cross, Lookback, State, ValueWhen};
use super::eval::{Evaluator, NodeState};
use super::plan::Op;
use super::skip::KernelNode;
use super::stateful::AnyKernel;
use super::Formula;
use crate::codec::{Dec, Enc};
use crate::{Error, Result};
use std::sync::Arc;

const TAG: &str = "formula";

impl Evaluator {
    /// The carried state, for [`Evaluator::from_state`].
    pub fn state(&self) -> Vec<u8> {
        let mut e = Enc::new(TAG);
        e.u64(self.f.id);
        e.u64(self.seen);
        for n in &self.nodes {
            match n {
                NodeState::Plain => {}
                NodeState::Lag(s) => s.save(&mut e),
                NodeState::Cross(s) => s.save(&mut e),
                NodeState::BarsSince(s) => s.save(&mut e),
                NodeState::ValueWhen(s) => s.save(&mut e),
                NodeState::Count(s) => s.save(&mut e),
                NodeState::State(s) => s.save(&mut e),
                NodeState::Kernel(k) => k.kernel.save(&mut e),
            }
        }
        e.bytes
    }

    /// Continues a series from bytes returned by [`Evaluator::state`] for the same text.
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are foreign, truncated or were saved by another
    /// formula text.
    pub fn from_state(f: &Arc<Formula>, state: &[u8]) -> Result<Evaluator> {
        let mut ev = Evaluator::new(f);
        let mut d = Dec::new(state, TAG)?;
        if d.u64()? != f.id {
            return Err(Error::param(
                "state: saved by another formula; resume with the same formula text",
            ));
        }
        let seen = d.u64()?;
        ev.seen = seen;
        for (node, op) in ev.nodes.iter_mut().zip(&f.plan.ops) {
            *node = match (&*node, *op) {
                (NodeState::Plain, _) => continue,
                (NodeState::Lag(_), Op::Lag(_, n)) => {
                    NodeState::Lag(Lookback::load(n, seen, &mut d)?)
                }
                (NodeState::Cross(_), _) => NodeState::Cross(Cross::load(&mut d)?),
                (NodeState::BarsSince(_), _) => NodeState::BarsSince(BarsSince::load(&mut d)?),
                (NodeState::ValueWhen(_), Op::ValueWhen(_, _, k)) => {
                    NodeState::ValueWhen(ValueWhen::load(k, &mut d)?)
                }
                (NodeState::Count(_), Op::Count(_, n)) => {
                    NodeState::Count(Count::load(n, seen, &mut d)?)
                }
                (NodeState::State(_), _) => NodeState::State(State::load(&mut d)?),
                (NodeState::Kernel(_), Op::Kernel(k, len, _)) => NodeState::Kernel(Box::new(
                    KernelNode::loaded(AnyKernel::load(k, len as usize, &mut d)?),
                )),
                _ => unreachable!("node states follow the plan"),
            };
        }
        d.finish()?;
        Ok(ev)
    }
}
