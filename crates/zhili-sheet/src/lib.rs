//! Spreadsheets people upload (表格导入): a CSV (UTF-8 with or without its BOM, or GB18030 —
//! what Excel writes as "CSV" on Chinese Windows) or the first worksheet of an XLSX workbook,
//! read into the non-empty rows numbered as the spreadsheet shows them, within limits. What the
//! columns mean is the importing domain's business (the case catalogue, flood indicators…): it
//! finds its header, reads its cells and names row and column in its problems.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{DataRef, Reader as _, Xlsx};

/// A cell as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A value no importer holds, described for the message (e.g. "a date").
    Unsupported(&'static str),
}

/// A non-empty row as read from a file, numbered as the spreadsheet shows it (from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub row: u32,
    pub cells: Vec<Cell>,
}

/// How much a file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file in bytes.
    pub max_bytes: usize,
    /// Most non-empty rows read (the importer's data rows plus where it looks for its header).
    pub max_rows: usize,
    /// Columns past this are ignored.
    pub max_columns: usize,
}

/// Why a file could not be read as a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error("the file has {bytes} bytes; at most {max} are accepted")]
    FileTooLarge { bytes: usize, max: usize },
    #[error("the file has more than {max} non-empty rows")]
    TooManyRows { max: usize },
    #[error("the file could not be read: {0}")]
    Unreadable(String),
    #[error("the workbook has no worksheet")]
    Empty,
}

fn check_size(bytes: &[u8], limits: &Limits) -> Result<(), SheetError> {
    if bytes.len() > limits.max_bytes {
        return Err(SheetError::FileTooLarge { bytes: bytes.len(), max: limits.max_bytes });
    }
    Ok(())
}

/// Decode CSV bytes: UTF-8 without its BOM, else GB18030.
pub fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, SheetError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes).ok_or_else(|| {
        SheetError::Unreadable("the text is neither UTF-8 nor GB18030 (GBK); save the sheet as \"CSV UTF-8\"".into())
    })
}

/// The non-empty rows of a CSV file.
pub fn read_csv(bytes: &[u8], limits: &Limits) -> Result<Vec<Row>, SheetError> {
    check_size(bytes, limits)?;
    let text = decode_text(bytes)?;
    let data = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(data);
    let mut rows = Vec::new();
    // A spreadsheet numbers records counting empty lines, which the csv reader skips and its
    // line count does not see. So count the line ends before each record's first byte, less the
    // line ends inside the quoted cells of the records before it.
    let (mut counted_to, mut line_ends, mut inner_line_ends) = (0usize, 0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| SheetError::Unreadable(format!("not valid CSV: {e}")))?;
        // The reported offset may point at the line end(s) before the record; a record never
        // starts with one.
        let reported = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let reported = reported.clamp(counted_to, data.len());
        let start = reported + data[reported..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        line_ends += data[counted_to..start].iter().filter(|b| **b == b'\n').count();
        counted_to = start;
        let row = u32::try_from(line_ends.saturating_sub(inner_line_ends) + 1).unwrap_or(u32::MAX);
        inner_line_ends += record.iter().map(|f| f.matches('\n').count()).sum::<usize>();
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rows.len() >= limits.max_rows {
            return Err(SheetError::TooManyRows { max: limits.max_rows });
        }
        let cells = record
            .iter()
            .take(limits.max_columns)
            .map(|f| if f.trim().is_empty() { Cell::Empty } else { Cell::Text(f.to_string()) })
            .collect();
        rows.push(Row { row, cells });
    }
    Ok(rows)
}

/// The non-empty rows of an XLSX workbook's first worksheet.
pub fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Vec<Row>, SheetError> {
    check_size(bytes, limits)?;
    let unreadable = |e: calamine::XlsxError| SheetError::Unreadable(format!("not an XLSX workbook: {e}"));
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let first = workbook.sheet_names().first().cloned().ok_or(SheetError::Empty)?;
    let mut reader = workbook.worksheet_cells_reader(&first).map_err(unreadable)?;
    let mut rows: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        let column = column as usize;
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) if s.trim().is_empty() => continue,
            DataRef::SharedString(s) if s.trim().is_empty() => continue,
            DataRef::String(s) => Cell::Text(s.clone()),
            DataRef::SharedString(s) => Cell::Text((*s).to_string()),
            DataRef::Int(n) => Cell::Number(*n as f64),
            DataRef::Float(n) => Cell::Number(*n),
            DataRef::Bool(b) => Cell::Bool(*b),
            DataRef::DateTime(_) | DataRef::DateTimeIso(_) => Cell::Unsupported("a date"),
            DataRef::DurationIso(_) => Cell::Unsupported("a duration"),
            DataRef::Error(_) => Cell::Unsupported("an error value such as #N/A"),
        };
        if column >= limits.max_columns {
            continue;
        }
        let row = row.saturating_add(1);
        if !rows.contains_key(&row) && rows.len() >= limits.max_rows {
            return Err(SheetError::TooManyRows { max: limits.max_rows });
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= column {
            cells.resize(column + 1, Cell::Empty);
        }
        cells[column] = value;
    }
    Ok(rows.into_iter().map(|(row, cells)| Row { row, cells }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits { max_bytes: 1024, max_rows: 3, max_columns: 2 };

    #[test]
    fn csv_rows_are_numbered_as_the_sheet_shows_them() {
        let rows = read_csv(b"\xef\xbb\xbfa,b,c\n\n\"x\ny\",2\n , \n3,4\n", &L).unwrap();
        // A quoted cell over two lines is one spreadsheet row; blank rows are skipped but counted.
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(rows[0].cells, [Cell::Text("a".into()), Cell::Text("b".into())]);
        assert_eq!(rows[1].cells[0], Cell::Text("x\ny".into()));
    }

    #[test]
    fn gb18030_and_limits() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("村名,时段\n上庄村,1h\n");
        let rows = read_csv(&gbk, &L).unwrap();
        assert_eq!(rows[1].cells[0], Cell::Text("上庄村".into()));
        assert_eq!(read_csv(&[b'a'; 2000], &L), Err(SheetError::FileTooLarge { bytes: 2000, max: 1024 }));
        assert_eq!(read_csv(b"1\n2\n3\n4\n", &L), Err(SheetError::TooManyRows { max: 3 }));
        assert!(matches!(read_csv(b"\xff\xfe\xfd", &L), Err(SheetError::Unreadable(_))));
        assert!(matches!(read_xlsx(b"not a zip", &L), Err(SheetError::Unreadable(_))));
    }
}
