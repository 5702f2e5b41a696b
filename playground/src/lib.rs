//! resgrad's playground: the library's gradient-flow instruments and trainer
//! ([`resgrad::playground`]) exported to a web page.
//!
//! The exports are plain `extern "C"` functions of numbers, so the page needs no generated
//! glue: JavaScript calls a function, which fills one buffer of `f64`s (or a message, on
//! error) that JavaScript reads from the module's memory. The layout of each buffer is
//! written once, in [`pack_fan`] and the `live_*` functions, and the page's
//! `playground.js` reads it the same way.
//!
//! Built natively, the same functions run in the tests and in `playground-numbers`, which
//! prints the numbers the page must show.

use std::cell::RefCell;

use resgrad::flow::MlpProbe;
use resgrad::playground::{Arch, Live, Points, Settings, Start, fan};

/// The page's controls as numbers, in the order of the exports' arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controls {
    /// 0 plain, 1 residual, 2 pre-activation.
    pub arch: u32,
    /// Weight layers.
    pub depth: u32,
    /// Units per layer.
    pub width: u32,
    /// The shortcut's scale.
    pub lambda: f64,
    /// 0 Glorot, 1 He, 2 zero-init residual.
    pub start: u32,
    /// 1 for batch norm.
    pub batch_norm: u32,
    /// The first seed.
    pub seed: u32,
    /// Seeds in the fan.
    pub seeds: u32,
}

impl Controls {
    /// The library's settings, or a message naming the control that is out of range.
    pub fn settings(&self) -> Result<Settings, String> {
        let arch = match self.arch {
            0 => Arch::Plain,
            1 => Arch::Residual,
            2 => Arch::PreActivation,
            a => {
                return Err(format!(
                    "architecture {a}: 0 plain, 1 residual, 2 pre-activation"
                ));
            }
        };
        let start = match self.start {
            0 => Start::Glorot,
            1 => Start::He,
            2 => Start::ZeroInitResidual,
            s => {
                return Err(format!(
                    "initialisation {s}: 0 Glorot, 1 He, 2 zero-init residual"
                ));
            }
        };
        Ok(Settings {
            arch,
            depth: self.depth as usize,
            width: self.width as usize,
            lambda: self.lambda,
            start,
            batch_norm: self.batch_norm != 0,
            seed: u64::from(self.seed),
            seeds: self.seeds as usize,
        })
    }
}

/// The fan of `controls`, packed as the page reads it:
/// `[seeds, boundaries B, layers per block, has split (0 or 1)]`, then for each seed
/// `B` gradient norms, `B` activation stds, and with a split `B` direct and `B` branch
/// norms.
pub fn fan_numbers(controls: &Controls) -> Result<Vec<f64>, String> {
    let settings = controls.settings()?;
    let probes = fan(&settings).map_err(|e| e.to_string())?;
    Ok(pack_fan(&probes))
}

/// See [`fan_numbers`] for the layout.
pub fn pack_fan(probes: &[MlpProbe]) -> Vec<f64> {
    let first = &probes[0];
    let boundaries = first.gradient.len();
    let split = first.split.is_some();
    let mut out = vec![
        probes.len() as f64,
        boundaries as f64,
        first.layers_per_block as f64,
        f64::from(u8::from(split)),
    ];
    for p in probes {
        out.extend(&p.gradient);
        out.extend(&p.activation_std);
        if let Some(s) = &p.split {
            out.extend(s.iter().map(|d| d.0));
            out.extend(s.iter().map(|d| d.1));
        }
    }
    out
}

/// The data set of the live view: 0 spirals, 1 moons, 2 circles.
pub fn points(code: u32) -> Result<Points, String> {
    match code {
        0 => Ok(Points::Spirals),
        1 => Ok(Points::Moons),
        2 => Ok(Points::Circles),
        p => Err(format!("data set {p}: 0 spirals, 1 moons, 2 circles")),
    }
}

/// What the module keeps between calls: the last numbers, the last message, the live net.
#[derive(Default)]
struct State {
    out: Vec<f64>,
    message: String,
    live: Option<Live>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Stores `result` for the page: the numbers in the buffer (status 0), or the message
/// (status -1).
fn answer(result: Result<Vec<f64>, String>) -> i32 {
    STATE.with_borrow_mut(|s| match result {
        Ok(v) => {
            s.out = v;
            s.message.clear();
            0
        }
        Err(m) => {
            s.out.clear();
            s.message = m;
            -1
        }
    })
}

/// Runs `f` on the live net, or says that there is none yet.
fn with_live(f: impl FnOnce(&mut Live) -> Result<Vec<f64>, String>) -> i32 {
    let result = STATE.with_borrow_mut(|s| match s.live.as_mut() {
        Some(live) => f(live),
        None => Err("no live net yet: call live_new first".to_string()),
    });
    answer(result)
}

/// The fan of these controls into the buffer ([`fan_numbers`]'s layout); 0, or -1 with a
/// message.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fan_of(
    arch: u32,
    depth: u32,
    width: u32,
    lambda: f64,
    start: u32,
    batch_norm: u32,
    seed: u32,
    seeds: u32,
) -> i32 {
    answer(fan_numbers(&Controls {
        arch,
        depth,
        width,
        lambda,
        start,
        batch_norm,
        seed,
        seeds,
    }))
}

/// A fresh live net of these controls (seed `seed`) on data set `data` ([`points`]) with
/// learning rate `lr`; the buffer gets the points, `x, y, label` after each other.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn live_new(
    arch: u32,
    depth: u32,
    width: u32,
    lambda: f64,
    start: u32,
    batch_norm: u32,
    seed: u32,
    data: u32,
    lr: f64,
) -> i32 {
    let controls = Controls {
        arch,
        depth,
        width,
        lambda,
        start,
        batch_norm,
        seed,
        seeds: 1,
    };
    let made = controls
        .settings()
        .and_then(|s| Live::new(&s, points(data)?, lr).map_err(|e| e.to_string()));
    let result = STATE.with_borrow_mut(|s| match made {
        Ok(live) => {
            let pts = live.points();
            s.live = Some(live);
            Ok(pts)
        }
        Err(m) => {
            s.live = None;
            Err(m)
        }
    });
    answer(result)
}

/// Trains the live net `steps` more steps; the buffer gets
/// `[steps so far, accuracy on the training points, then the loss of every step]`.
#[unsafe(no_mangle)]
pub extern "C" fn live_train(steps: u32) -> i32 {
    with_live(|live| {
        live.train(steps as usize).map_err(|e| e.to_string())?;
        let accuracy = live.accuracy().map_err(|e| e.to_string())?;
        let mut out = vec![live.step() as f64, accuracy];
        out.extend(live.losses());
        Ok(out)
    })
}

/// The live net's probability of class 1 on an `n` by `n` grid
/// ([`Live::grid`](resgrad::playground::Live::grid)).
#[unsafe(no_mangle)]
pub extern "C" fn live_grid(n: u32) -> i32 {
    with_live(|live| live.grid(n as usize).map_err(|e| e.to_string()))
}

/// Where the buffer starts in the module's memory.
#[unsafe(no_mangle)]
pub extern "C" fn out_ptr() -> *const f64 {
    STATE.with_borrow(|s| s.out.as_ptr())
}

/// How many `f64`s the buffer holds.
#[unsafe(no_mangle)]
pub extern "C" fn out_len() -> usize {
    STATE.with_borrow(|s| s.out.len())
}

/// Where the last message (UTF-8) starts.
#[unsafe(no_mangle)]
pub extern "C" fn message_ptr() -> *const u8 {
    STATE.with_borrow(|s| s.message.as_ptr())
}

/// The last message's length in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn message_len() -> usize {
    STATE.with_borrow(|s| s.message.len())
}

/// The last numbers, as the page reads them from memory (native callers).
pub fn last_numbers() -> Vec<f64> {
    STATE.with_borrow(|s| s.out.clone())
}

/// The last message (native callers).
pub fn last_message() -> String {
    STATE.with_borrow(|s| s.message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_holds_each_seeds_numbers_in_order() {
        assert_eq!(fan_of(2, 8, 16, 0.9, 1, 1, 3, 2), 0, "{}", last_message());
        let v = last_numbers();
        let probes = fan(&Controls {
            arch: 2,
            depth: 8,
            width: 16,
            lambda: 0.9,
            start: 1,
            batch_norm: 1,
            seed: 3,
            seeds: 2,
        }
        .settings()
        .unwrap())
        .unwrap();
        // 2 seeds, 5 boundaries (4 blocks), 2 layers per block, a split
        assert_eq!(&v[..4], &[2.0, 5.0, 2.0, 1.0]);
        assert_eq!(v.len(), 4 + 2 * 4 * 5);
        let second = &v[4 + 20..];
        assert_eq!(&second[..5], &probes[1].gradient[..]);
        assert_eq!(&second[5..10], &probes[1].activation_std[..]);
        let split = probes[1].split.as_ref().unwrap();
        assert_eq!(
            second[10..15],
            split.iter().map(|s| s.0).collect::<Vec<_>>()[..]
        );
        assert_eq!(
            second[15..20],
            split.iter().map(|s| s.1).collect::<Vec<_>>()[..]
        );
    }

    #[test]
    fn a_refused_call_leaves_a_message_and_no_numbers() {
        assert_eq!(fan_of(7, 8, 16, 1.0, 1, 0, 0, 1), -1);
        assert!(
            last_message().contains("architecture 7"),
            "{}",
            last_message()
        );
        assert!(last_numbers().is_empty());
        assert_eq!(live_train(5), -1);
        assert!(
            last_message().contains("call live_new first"),
            "{}",
            last_message()
        );
        assert_eq!(live_new(0, 10, 8, 1.0, 1, 0, 0, 9, 0.03), -1);
        assert!(last_message().contains("data set 9"), "{}", last_message());
        assert_eq!(live_new(0, 10, 8, 1.0, 1, 0, 0, 1, 0.03), 0);
        assert_eq!(live_train(3), 0);
        let v = last_numbers();
        assert_eq!((v[0], v.len()), (3.0, 2 + 3));
        assert_eq!(live_grid(4), 0);
        assert_eq!(last_numbers().len(), 16);
    }
}
