//! Reading decimal numbers without std's `f64::from_str`. Std's parser is exact for every
//! input, and for that it carries about 8 KB of power-of-five and shift tables that do not
//! compress (7 KB of the page's gzip bytes). Every number we read is short — a knob value,
//! a duration, a distribution's parameter, a speed — and for those this reads exactly the
//! same `f64` as std: it is correctly rounded for up to 19 significant digits with a
//! decimal exponent from -28 to 19 (`0.000001`, `2.5e6`, `0.30000000000000004`). Beyond
//! that (more digits, or extreme exponents) it is within a few units in the last place.
//!
//! Writing them, likewise, without std's `f64` formatting (`{:.2}`, `{}`, 12 KB of the
//! page): `Fixed` writes a number with so many decimals, `Short` the shortest text that
//! reads back as the same number (serde_json's writer, `zmij`, which the page has anyway).

/// `10^k` for `k` in `0..=22`: each exactly representable in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses `text` as `str::parse::<f64>` does: an optional sign, digits with an optional
/// point (`1.`, `.5`), an optional exponent (`e-3`), or `inf`, `infinity`, `nan` in any
/// case; nothing else, no spaces. `None` where std returns an error.
pub fn parse_f64(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let (negative, start) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let word = &b[start..];
    let sign = if negative { -1.0 } else { 1.0 };
    if word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"infinity") {
        return Some(sign * f64::INFINITY);
    }
    if word.eq_ignore_ascii_case(b"nan") {
        return Some(f64::NAN);
    }
    let (mut mantissa, mut exp10, mut digits, mut inexact) = (0u64, 0i64, 0usize, false);
    let mut i = 0;
    let mut take = |d: u8, fraction: bool| {
        digits += 1;
        if mantissa < 1_000_000_000_000_000_000 {
            mantissa = mantissa * 10 + u64::from(d);
            exp10 -= i64::from(fraction);
        } else {
            // Past 19 digits: a digit of the integer part still scales the number.
            exp10 += i64::from(!fraction);
            inexact |= d != 0;
        }
    };
    while i < word.len() && word[i].is_ascii_digit() {
        take(word[i] - b'0', false);
        i += 1;
    }
    if i < word.len() && word[i] == b'.' {
        i += 1;
        while i < word.len() && word[i].is_ascii_digit() {
            take(word[i] - b'0', true);
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < word.len() && (word[i] | 0x20) == b'e' {
        i += 1;
        let minus = match word.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let from = i;
        let mut e: i64 = 0;
        while i < word.len() && word[i].is_ascii_digit() {
            e = (e * 10 + i64::from(word[i] - b'0')).min(1_000_000);
            i += 1;
        }
        if i == from {
            return None;
        }
        exp10 += if minus { -e } else { e };
    }
    if i != word.len() {
        return None;
    }
    Some(sign * magnitude(mantissa, exp10, inexact))
}

/// `mantissa × 10^exp10`, correctly rounded where the module comment says.
fn magnitude(mantissa: u64, exp10: i64, inexact: bool) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    if !inexact {
        // Both exact, so one rounding (Clinger's fast path).
        if mantissa <= 1 << 53 && (-22..=22).contains(&exp10) {
            let m = mantissa as f64;
            return if exp10 >= 0 { m * POW10[exp10 as usize] } else { m / POW10[(-exp10) as usize] };
        }
        // The product is an integer below 2^128; the cast rounds it once.
        if (0..=19).contains(&exp10) {
            return (u128::from(mantissa) * 10u128.pow(exp10 as u32)) as f64;
        }
        // A quotient with at least 55 significant bits and a sticky bit for the remainder:
        // the cast rounds it once, and the power-of-two scaling is exact. Past 10^20 the
        // division runs on for 32 more bits.
        if (-28..0).contains(&exp10) {
            let shift = mantissa.leading_zeros() + 63;
            let num = u128::from(mantissa) << shift;
            let den = 10u128.pow((-exp10) as u32);
            let (q, rest, shift) = if exp10 >= -20 {
                (num / den, num % den, shift)
            } else {
                let (q1, r1) = (num / den, num % den);
                ((q1 << 32) | ((r1 << 32) / den), (r1 << 32) % den, shift + 32)
            };
            return scale2((q | u128::from(rest != 0)) as f64, -(shift as i32));
        }
    }
    // Rare: a few roundings, each within half a unit in the last place.
    let mut v = mantissa as f64;
    let mut e = exp10.clamp(-400, 400);
    while e > 22 {
        v *= 1e22;
        e -= 22;
    }
    while e < -22 {
        v /= 1e22;
        e += 22;
    }
    if e >= 0 { v * POW10[e as usize] } else { v / POW10[(-e) as usize] }
}

/// `v × 2^k`, exact while the result is a normal number.
fn scale2(v: f64, k: i32) -> f64 {
    let mut v = v;
    let mut k = k;
    while k < -1000 {
        v *= f64::from_bits(((1023 - 1000) as u64) << 52);
        k += 1000;
    }
    v * f64::from_bits(((1023 + k) as u64) << 52)
}

/// `x` with `.0` decimals, rounded to nearest (`{:.N}` for the numbers we show); pads to a
/// width and aligns like any text (`{:>9}`). Beyond 1.8e19 after scaling, the shortest text.
#[derive(Clone, Copy, Debug)]
pub struct Fixed(pub f64, pub u8);

impl core::fmt::Display for Fixed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Fixed(x, decimals) = *self;
        let scale = 10u64.pow(u32::from(decimals.min(18)));
        let scaled = round_scaled(x.abs(), scale as f64);
        if !(scaled < 1.8e19) {
            return f.pad(&Short(x).to_string());
        }
        let m = scaled as u64;
        let mut s = String::new();
        if x < 0.0 && m != 0 {
            s.push('-');
        }
        s += &(m / scale).to_string();
        if decimals > 0 {
            let frac = (m % scale).to_string();
            s.push('.');
            s.extend(core::iter::repeat_n('0', usize::from(decimals) - frac.len()));
            s += &frac;
        }
        f.pad(&s)
    }
}

/// `x * scale` rounded to the nearest whole number as if computed exactly, ties to even
/// (std's rounding of the decimal digits): where the rounded product lands on a half, the
/// product's rounding error (Dekker's exact product, no fused multiply-add in wasm) says
/// which side the exact value is on.
fn round_scaled(x: f64, scale: f64) -> f64 {
    let p = x * scale;
    let below = p.floor();
    if p - below != 0.5 {
        return p.round();
    }
    let split = |v: f64| {
        let c = 134_217_729.0 * v;
        let hi = c - (c - v);
        (hi, v - hi)
    };
    let ((xh, xl), (sh, sl)) = (split(x), split(scale));
    let error = ((xh * sh - p) + xh * sl + xl * sh) + xl * sl;
    if error > 0.0 || (error == 0.0 && below % 2.0 != 0.0) { below + 1.0 } else { below }
}

/// The shortest text that reads back as `x`: `0.1`, `200`, `2.5e-7`, `NaN`, `inf` (std's `{}`
/// writes the same digits, with no exponent).
#[derive(Clone, Copy, Debug)]
pub struct Short(pub f64);

impl core::fmt::Display for Short {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut buffer = zmij::Buffer::new();
        let text = buffer.format(self.0);
        f.pad(text.strip_suffix(".0").unwrap_or(text))
    }
}

/// `cos(2πx)` for `x` in turns (the shape of a diurnal day, Box-Muller's angle). The
/// quarter turn nearest `x` is taken off exactly, which leaves an angle of at most an
/// eighth of a turn for a Taylor series in Horner form: within a few units in the last
/// place of libm's `cos`, without its reduction of huge arguments (3.5 KB of the page).
pub fn cos_turns(x: f64) -> f64 {
    let quarter = (x * 4.0).round();
    // Exact: `quarter / 4` has two bits after the point and the difference is smaller than `x`.
    let r = (x - quarter * 0.25) * core::f64::consts::TAU;
    let r2 = r * r;
    // cos r = 1 - r²/(1·2) (1 - r²/(3·4) (1 - ...)), and sin r = r (1 - r²/(2·3) (1 - ...)).
    let (mut c, mut s) = (1.0, 1.0);
    for k in (1..=10u32).rev() {
        let k = f64::from(k);
        c = 1.0 - r2 / ((2.0 * k - 1.0) * (2.0 * k)) * c;
        s = 1.0 - r2 / ((2.0 * k) * (2.0 * k + 1.0)) * s;
    }
    let s = r * s;
    match (quarter as i64).rem_euclid(4) {
        0 => c,
        1 => -s,
        2 => -c,
        _ => s,
    }
}

/// `x.round() as u64` (half away from zero) for `x >= 0`, without libm's call and without
/// a branch on the fraction (which is a coin toss for random durations). Below 2^52,
/// adding 2^52 rounds `x` to a whole number (a half to even) held in the sum's low bits:
/// a few cycles, where converting to an integer and back took three times as long on
/// the path from a random draw to the next event's time. Above, `x` is whole.
#[inline(always)]
pub fn round_micros(x: f64) -> u64 {
    debug_assert!(!(x < 0.0), "round_micros({x})");
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if !(x < TWO_52) {
        return x as u64;
    }
    let sum = x + TWO_52;
    let to_even = sum.to_bits() - TWO_52.to_bits();
    // A half rounded down (to an even number) goes up instead; the difference is exact.
    to_even + u64::from(x - (sum - TWO_52) == 0.5)
}

#[cfg(test)]
mod tests {
    /// The same whole number as std's `round`, at halves, just under and over them, and
    /// from small fractions to where every f64 is whole.
    #[test]
    fn round_micros_rounds_as_std() {
        let mut rng = crate::rng::Rng::new(3, "round");
        let mut xs = vec![0.0, 0.5, 1.5, 2.5, 0.49999999999999994, 4_503_599_627_370_495.5, 4_503_599_627_370_496.0, 1e13, 1e19, f64::NAN];
        for _ in 0..20_000 {
            let whole = rng.below(1 << 40) as f64;
            let x = whole + 0.5;
            xs.extend([x, f64::from_bits(x.to_bits() - 1), f64::from_bits(x.to_bits() + 1), rng.unit() * 1e7, rng.unit()]);
            // Halves up to where they stop existing, and any magnitude below 2^52.
            let high = (rng.below(1 << 51) + (1 << 51)) as f64 + 0.5;
            xs.extend([high, f64::from_bits(high.to_bits() - 1), f64::from_bits(high.to_bits() + 1), rng.unit() * 4.5e15]);
        }
        for x in xs {
            assert_eq!(round_micros(x), x.round() as u64, "{x:?}");
        }
    }

    use super::{Fixed, Short, parse_f64};

    #[test]
    fn fixed_writes_what_std_writes_for_numbers_we_show() {
        let mut cases = vec![0.0, 1.0, -1.5, 0.004, 0.005, 0.015, 2.675, 1.005, 12.345, 99.99, 99.996, 1e6 + 0.25, 123456789.123, -0.5, 3.0e-9, 0.125, 2.5, 0.5, 0.25, 3.5, 0.75, 0.375];
        // And many near ties: k/2000 for k up to 20,000 (0.0005, 0.0015, ...).
        cases.extend((0..20_000).map(|k| f64::from(k) / 2000.0));
        for x in cases {
            for d in 0..=4u8 {
                let std = format!("{x:.*}", usize::from(d));
                // Std keeps the sign of a negative number rounded to zero; we do not.
                let std = if std.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') { std.trim_start_matches('-').to_string() } else { std };
                assert_eq!(Fixed(x, d).to_string(), std, "{x} with {d} decimals");
            }
        }
        assert_eq!(format!("{:>8}|{:<6}|", Fixed(3.14259, 2), Fixed(-2.0, 1)), "    3.14|-2.0  |");
        assert_eq!((Fixed(f64::NAN, 2).to_string(), Fixed(f64::INFINITY, 1).to_string()), ("NaN".to_string(), "inf".to_string()));
    }

    #[test]
    fn short_reads_back_as_the_same_number() {
        for x in [0.0, 1.0, 200.0, 0.1, 0.3 + 0.6, 2.5e-7, 1e21, 123.456, -4.0, 0.8, 1.5, 1000.0] {
            let text = Short(x).to_string();
            assert_eq!(parse_f64(&text), Some(x), "{text}");
            if (1e-4..1e15).contains(&x.abs()) {
                assert_eq!(text, x.to_string(), "the digits std writes, where it writes no exponent");
            }
        }
        assert_eq!(format!("{:>5}", Short(2.0)), "    2");
    }

    #[test]
    fn cos_turns_is_libms_cos_within_a_few_ulps() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = f64::from(i) / 200_000.0;
            let (ours, theirs) = (super::cos_turns(x), libm::cos(core::f64::consts::TAU * x));
            worst = worst.max((ours - theirs).abs());
        }
        assert!(worst < 1e-15, "{worst:e}");
        assert_eq!((super::cos_turns(0.0), super::cos_turns(0.5), super::cos_turns(1.0)), (1.0, -1.0, 1.0));
        assert!(super::cos_turns(0.25).abs() < 1e-300 && super::cos_turns(0.75).abs() < 1e-300);
    }

    use super::*;
    use proptest::prelude::*;

    fn same(text: &str) {
        let want = text.parse::<f64>().ok();
        let got = parse_f64(text);
        match (want, got) {
            (Some(w), Some(g)) if w.is_nan() => assert!(g.is_nan(), "{text}"),
            (w, g) => assert_eq!(g.map(f64::to_bits), w.map(f64::to_bits), "{text}: std {w:?}, ours {g:?}"),
        }
    }

    #[test]
    fn reads_what_std_reads_and_refuses_what_it_refuses() {
        for t in [
            "0", "-0", "+0", "1", "1.", ".5", "-.5", "0.1", "0.01", "0.999", "1e3", "1E-3", "2.5e+6", "50000", "100000", "1e22",
            "1e23", "9007199254740993", "0.30000000000000004", "123456789012345678", "1234567890123456789", "0.000001",
            "1e-400", "1e400", "inf", "-Infinity", "NaN", "", "-", ".", "e5", "1e",
            "1e+", "1.2.3", " 1", "1 ", "1_000", "0x10", "--1", "+-1", "1.5s", "00012.50", "12345678901234567890123",
        ] {
            same(t);
        }
    }

    #[test]
    fn extremes_are_close() {
        for t in ["1.7976931348623157e308", "2.2250738585072014e-308", "1e300", "1e-300", "123456789e-290"] {
            let (want, got) = (t.parse::<f64>().unwrap(), parse_f64(t).unwrap());
            assert!(((got - want) / want).abs() < 1e-15, "{t}: {got} vs {want}");
        }
    }

    proptest! {
        /// Every finite f64 written as std writes it (the knobs' text form) reads back to
        /// itself, and to what std reads.
        #[test]
        fn round_trips_std_display(fraction in 0u64..1 << 52, exp in -16i64..53, negative: bool) {
            let v = f64::from_bits((u64::from(negative) << 63) | (((1023 + exp) as u64) << 52) | fraction);
            let text = v.to_string();
            prop_assert_eq!(parse_f64(&text).map(f64::to_bits), Some(v.to_bits()), "{}", text);
        }

        /// Short decimals, as people type them: exactly std's value.
        #[test]
        fn short_decimals_are_exact(int in 0u64..10_000_000, frac in 0u64..1_000_000, places in 0usize..7, exp in -20i32..20) {
            let text = format!("{int}.{frac:0places$}e{exp}");
            same(&text);
        }

        /// Anything else is close.
        #[test]
        fn long_or_extreme_inputs_are_close(m in 1u64.., extra in 0u32..10, exp in -300i32..300) {
            let text = format!("{m}{}e{exp}", "7".repeat(extra as usize));
            let want: f64 = text.parse().unwrap();
            let got = parse_f64(&text).unwrap();
            if want.is_normal() {
                prop_assert!(((got - want) / want).abs() < 1e-15, "{}: {} vs {}", text, got, want);
            }
        }
    }
}
