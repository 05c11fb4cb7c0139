//! Differentiable ops. Each file groups related ops; each op's forward method
//! on [`crate::Var`] sits next to the [`crate::Function`] holding its backward rule.

mod activation;
mod binary;
mod conv;
mod index;
mod layout;
mod linear;
mod loss;
mod mask;
mod matmul;
mod norm;
mod operators;
mod pooling;
mod reduce;
mod unary;

pub use activation::Activation;
pub use unary::UnaryOp;
