//! Virtual time: integer microseconds, and the duration syntax readers type (`250us`, `10ms`, `2s`).

/// Virtual time and durations, in microseconds. Never a float, never the wall clock.
pub type Micros = u64;

pub const US_PER_MS: Micros = 1_000;
pub const US_PER_S: Micros = 1_000_000;

/// Parses `250us`, `10ms`, `2s`, `1.5s`, `2m` or `0`.
pub fn parse_duration(text: &str) -> Result<Micros, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at_checked(split).unwrap_or((t, ""));
    let scale = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" | "min" => 60e6,
        "" if number == "0" => 1.0,
        "" => return Err(format!("'{text}' has no unit (use us, ms, s or m, e.g. 10ms)")),
        _ => return Err(format!("'{text}' has unknown unit '{unit}' (use us, ms, s or m)")),
    };
    let value: f64 = crate::num::parse_f64(number).ok_or_else(|| format!("'{text}' is not a duration (e.g. 250us, 10ms, 2s)"))?;
    let us = (value * scale).round();
    if !(0.0..=1e15).contains(&us) {
        return Err(format!("'{text}' is out of range"));
    }
    Ok(us as Micros)
}

/// The shortest exact spelling of a duration, so that it parses back to the same value.
pub fn format_duration(us: Micros) -> String {
    if us == 0 {
        "0".to_string()
    } else if us % US_PER_S == 0 {
        format!("{}s", us / US_PER_S)
    } else if us % US_PER_MS == 0 {
        format!("{}ms", us / US_PER_MS)
    } else {
        format!("{us}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_round_trips() {
        assert_eq!(parse_duration("250us"), Ok(250));
        assert_eq!(parse_duration("10ms"), Ok(10_000));
        assert_eq!(parse_duration("2s"), Ok(2_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000));
        assert_eq!(parse_duration("0"), Ok(0));
        for us in [0, 1, 999, 1_000, 1_500, 2_000_000, 2_500_000] {
            assert_eq!(parse_duration(&format_duration(us)), Ok(us));
        }
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(parse_duration("10h").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
