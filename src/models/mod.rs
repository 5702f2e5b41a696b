//! The paper's networks and their plain twins, the MLPs of the gradient-flow experiments,
//! and the summary that checks them against the paper.

mod mlp;
mod resnet;
mod summary;

pub use mlp::Mlp;
pub use resnet::{Block, PlainNet, ResNet};
pub use summary::{Summary, SummaryRow, human, thousands};
