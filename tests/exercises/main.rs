//! Every exercise is solvable (its solution passes) and every checker rejects a wrong
//! answer (the placeholder, and a plausible mistake), without panicking. One file per
//! chapter holds its solutions.

mod ch00;
mod ch01;
mod ch02;
mod ch03;
mod ch04;
mod ch05;
mod ch06;
mod ch07;
mod ch08;
mod ch09;
mod ch10;
