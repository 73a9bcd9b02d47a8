//! Python's `datetime.strftime` for HF's `strftime_now(format)` template global, on a UTC
//! clock (Iris carries no time zone database; HF uses the local time zone).

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CivilTime {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Monday
    pub weekday: u32,
    /// 1..=366
    pub day_of_year: u32,
}

impl CivilTime {
    /// The UTC time `secs` seconds after the Unix epoch.
    pub fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][month as usize - 1];
        let day_of_year = before + day + u32::from(leap && month > 2);
        Self {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            weekday: (days + 3).rem_euclid(7) as u32, // 1970-01-01 was a Thursday
            day_of_year,
        }
    }

    /// Now, in UTC (HF uses the local time zone; Iris has no time zone database).
    pub fn now_utc() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Self::from_unix(secs)
    }
}

/// `datetime.strftime(format)` for the common directives (`%Y %m %d %H %M %S %y %B %b %A %a
/// %j %I %p %%`, and glibc's `%-d` style unpadded forms); others are kept as written.
pub(crate) fn strftime(t: &CivilTime, format: &str) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let unpadded = chars.peek() == Some(&'-');
        if unpadded {
            chars.next();
        }
        let num = |n: u32, width: usize| {
            if unpadded {
                n.to_string()
            } else {
                format!("{n:0width$}")
            }
        };
        let hour12 = match t.hour % 12 {
            0 => 12,
            h => h,
        };
        let piece = match chars.next() {
            Some('Y') => t.year.to_string(),
            Some('y') => num(t.year.rem_euclid(100) as u32, 2),
            Some('m') => num(t.month, 2),
            Some('d') => num(t.day, 2),
            Some('e') => format!("{:>2}", t.day),
            Some('H') => num(t.hour, 2),
            Some('I') => num(hour12, 2),
            Some('M') => num(t.minute, 2),
            Some('S') => num(t.second, 2),
            Some('j') => num(t.day_of_year, 3),
            Some('p') => if t.hour < 12 { "AM" } else { "PM" }.to_string(),
            Some('B') => MONTHS[t.month as usize - 1].to_string(),
            Some('b') | Some('h') => MONTHS[t.month as usize - 1][..3].to_string(),
            Some('A') => WEEKDAYS[t.weekday as usize].to_string(),
            Some('a') => WEEKDAYS[t.weekday as usize][..3].to_string(),
            Some('%') => "%".to_string(),
            Some(other) => format!("%{}{other}", if unpadded { "-" } else { "" }),
            None => "%".to_string(),
        };
        out.push_str(&piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_formats_known_dates() {
        // 2024-02-29 13:05:09 UTC, a Thursday
        let t = CivilTime::from_unix(1_709_211_909);
        assert_eq!(strftime(&t, "%Y-%m-%d %H:%M:%S"), "2024-02-29 13:05:09");
        assert_eq!(strftime(&t, "%d %b %Y"), "29 Feb 2024");
        assert_eq!(
            strftime(&t, "%A %B %-d, %I%p %j %%"),
            "Thursday February 29, 01PM 060 %"
        );
        let epoch = CivilTime::from_unix(0);
        assert_eq!(strftime(&epoch, "%a %d %b %Y %y"), "Thu 01 Jan 1970 70");
    }
}
