//! Masking of personal data (个人信息脱敏) and the GB 11643 resident identity number check.
//!
//! Personal data is shown masked unless the viewer's role needs it in full (see
//! [`crate::policy::Action::ReadPersonalData`]).

/// Mask a mobile phone number as first 3 + last 4 (`138****1999`).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// Mask a resident identity number as first 6 + last 4 (`370304********1234`).
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// Why an identity number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters.
    #[error("identity number must have 18 characters, got {0}")]
    Length(usize),
    /// A character in the first 17 that is not a digit, or a bad last character.
    #[error("identity number character {0} is not a digit (the 18th may be X)")]
    Character(usize),
    /// Birth date (characters 7–14) is not a real date.
    #[error("identity number birth date (characters 7–14) {0} is not a valid date")]
    BirthDate(String),
    /// The check character does not match.
    #[error("identity number check character is {found}, expected {expected}")]
    Check {
        /// What the number carries.
        found: char,
        /// What the GB 11643 check computes.
        expected: char,
    },
}

/// Validate a GB 11643 resident identity number (居民身份证号码).
pub fn validate_id_number(id: &str) -> Result<(), IdNumberError> {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return Err(IdNumberError::Length(chars.len()));
    }
    let mut sum = 0;
    for (i, c) in chars[..17].iter().enumerate() {
        let d = c.to_digit(10).ok_or(IdNumberError::Character(i + 1))?;
        sum += d * W[i];
    }
    let last = chars[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(IdNumberError::Character(18));
    }
    let birth: String = chars[6..14].iter().collect();
    if chrono::NaiveDate::parse_from_str(&birth, "%Y%m%d").is_err() {
        return Err(IdNumberError::BirthDate(birth));
    }
    let expected = C[(sum % 11) as usize] as char;
    if last != expected {
        return Err(IdNumberError::Check { found: last, expected });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812341999"), "138****1999");
        assert_eq!(mask_id_number("370304199001011234"), "370304********1234");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn id_numbers() {
        // 11010519491231002X is the standard's published example.
        assert_eq!(validate_id_number("11010519491231002X"), Ok(()));
        assert_eq!(validate_id_number("11010519491231002x"), Ok(()));
        assert!(matches!(validate_id_number("110105194912310021"), Err(IdNumberError::Check { expected: 'X', .. })));
        assert!(matches!(validate_id_number("110105194913310021"), Err(IdNumberError::BirthDate(_))));
        assert_eq!(validate_id_number("1101"), Err(IdNumberError::Length(4)));
    }
}
