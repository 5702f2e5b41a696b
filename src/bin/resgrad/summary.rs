//! `resgrad summary --compare-blocks`: the table of `resgrad::models::compare_blocks`.

/// Prints the bottleneck's cost beside two basic blocks, per pixel of output.
pub fn print_compare_blocks() {
    use resgrad::models::compare_blocks;
    use resgrad::nn::thousands;
    println!(
        "{:<58} {:>16} {:>12}",
        "block (per pixel of output)", "multiply-adds", "parameters"
    );
    for (name, macs, params) in compare_blocks() {
        let (m, p) = (thousands(macs), thousands(params));
        println!("{name:<58} {m:>16} {p:>12}");
    }
    println!(
        "He et al. 2015, 4.1: the bottleneck costs about what the 64-d basic block does, with 4x the width."
    );
}
