//! Chapter 10's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises;
use resgrad::tensors::read_header;

fn read_tensor(bytes: &[u8], key: &str) -> Vec<f32> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = read_header(bytes).unwrap();
    let entry = header.entries.iter().find(|e| e.name == key).unwrap();
    let [b, e] = entry.data_offsets;
    bytes[8 + n + b..8 + n + e]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn exercise_10_1_a_tensor_from_the_bytes() {
    let v = exercises::check_read_tensor(read_tensor);
    assert!(v.passed, "{v}");
    let v = exercises::check_read_tensor(exercises::read_tensor_placeholder);
    assert!(!v.passed && v.message.contains("8 (the length)"), "{v}");
    // Big-endian: the right bytes, read the wrong way round.
    let big_endian = |bytes: &[u8], key: &str| -> Vec<f32> {
        read_tensor(bytes, key)
            .into_iter()
            .map(|x| f32::from_be_bytes(x.to_le_bytes()))
            .collect()
    };
    let v = exercises::check_read_tensor(big_endian);
    assert!(!v.passed && v.message.contains("little-endian"), "{v}");
    // Every byte to the end of the file: too many values.
    let to_the_end = |bytes: &[u8], key: &str| -> Vec<f32> {
        let mut v = read_tensor(bytes, key);
        v.push(0.0);
        v
    };
    let v = exercises::check_read_tensor(to_the_end);
    assert!(
        !v.passed && v.message.contains("data_offsets[1] - data_offsets[0]"),
        "{v}"
    );
}

fn allreduce(workers: &[(usize, Vec<f64>)]) -> Vec<f64> {
    let total: usize = workers.iter().map(|w| w.0).sum();
    let mut g = vec![0.0; workers[0].1.len()];
    for (b, gk) in workers {
        for (gi, v) in g.iter_mut().zip(gk) {
            *gi += *b as f64 / total as f64 * v;
        }
    }
    g
}

#[test]
fn exercise_10_3_all_reduce() {
    let v = exercises::check_allreduce(allreduce);
    assert!(v.passed, "{v}");
    assert!(!exercises::check_allreduce(exercises::allreduce_placeholder).passed);
    // The plain mean of the workers' means: right for equal shards only.
    let plain_mean = |w: &[(usize, Vec<f64>)]| -> Vec<f64> {
        (0..w[0].1.len())
            .map(|i| w.iter().map(|x| x.1[i]).sum::<f64>() / w.len() as f64)
            .collect()
    };
    let v = exercises::check_allreduce(plain_mean);
    assert!(!v.passed && v.message.contains("b_k / B"), "{v}");
    // The sum, as a raw all-reduce returns it, without the division.
    let sum = |w: &[(usize, Vec<f64>)]| -> Vec<f64> {
        (0..w[0].1.len())
            .map(|i| w.iter().map(|x| x.1[i]).sum::<f64>())
            .collect()
    };
    let v = exercises::check_allreduce(sum);
    assert!(!v.passed && v.message.contains("3 times too large"), "{v}");
}

fn intensity(x: [usize; 4], w: [usize; 4]) -> f64 {
    let [n, c, h, wd] = x.map(|v| v as f64);
    let [co, _, k, _] = w.map(|v| v as f64);
    2.0 * n * co * h * wd * c * k * k / (4.0 * (n * c * h * wd + co * c * k * k + n * co * h * wd))
}

#[test]
fn exercise_10_2_conv_arithmetic_intensity() {
    let v = exercises::check_conv_intensity(intensity);
    assert!(v.passed, "{v}");
    assert!(!exercises::check_conv_intensity(|_, _| 0.0).passed);
    let macs = |x, w| intensity(x, w) / 2.0;
    let v = exercises::check_conv_intensity(macs);
    assert!(!v.passed && v.message.contains("two FLOPs"), "{v}");
    let numbers_not_bytes = |x, w| intensity(x, w) * 4.0;
    let v = exercises::check_conv_intensity(numbers_not_bytes);
    assert!(!v.passed && v.message.contains("4 bytes"), "{v}");
    // Forgetting the output's bytes: the generic message gives the counts.
    let no_output = |x: [usize; 4], w: [usize; 4]| {
        let [n, c, h, wd] = x.map(|v| v as f64);
        let [co, _, k, _] = w.map(|v| v as f64);
        2.0 * n * co * h * wd * c * k * k / (4.0 * (n * c * h * wd + co * c * k * k))
    };
    let v = exercises::check_conv_intensity(no_output);
    assert!(
        !v.passed && v.message.contains("input + weight + output"),
        "{v}"
    );
}
