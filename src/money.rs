//! Money: costs are stored and summed as whole nano-dollars (exact integer sums) and shown
//! in USD. Pure arithmetic; the prices themselves are in `cost`.

/// USD → whole nano-dollars.
pub fn to_nano(usd: f64) -> i64 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "costs are far below 9.2e9 USD"
    )]
    let n = (usd * 1e9).round() as i64;
    n
}

/// Nano-dollars → USD.
pub fn from_nano(n: i64) -> f64 {
    n as f64 / 1e9
}

/// `usd` to the nearest nano-dollar: a sum of float costs without the noise of the sum.
pub fn round_nano(usd: f64) -> f64 {
    from_nano(to_nano(usd))
}

/// A stored cost in USD: the sum of the priced responses (`cost_nusd`), unknown (`None`)
/// when any of them (`unpriced`) has no price.
pub fn stored_usd(cost_nusd: i64, unpriced: i64) -> Option<f64> {
    (unpriced == 0).then(|| from_nano(cost_nusd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nano_dollars() {
        assert_eq!(to_nano(0.0337606), 33_760_600);
        assert_eq!(from_nano(1_750_000_000), 1.75);
        assert_eq!(stored_usd(1_750_000_000, 0), Some(1.75));
        assert_eq!(stored_usd(1_750_000_000, 1), None);
        assert_eq!(round_nano(0.1 + 0.2), 0.3);
        assert_eq!(round_nano(4.950_932_200_000_000_4).to_string(), "4.9509322");
    }
}
