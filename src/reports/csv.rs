//! Writing CSV (RFC 4180): fields quoted when needed, CRLF line ends. Text that people
//! typed (names) cannot start a spreadsheet formula.

/// One CSV document being written.
#[derive(Default)]
pub struct Csv {
    pub out: String,
    fields: usize,
}

impl Csv {
    /// A field as it is.
    pub fn field(&mut self, value: &str) -> &mut Self {
        if self.fields > 0 {
            self.out.push(',');
        }
        self.fields += 1;
        if value.contains([',', '"', '\n', '\r']) {
            self.out.push('"');
            self.out.push_str(&value.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(value);
        }
        self
    }

    /// Text from people: a leading `=`, `+`, `-`, `@` or tab gets a `'` so that
    /// spreadsheets show it instead of evaluating it.
    pub fn text(&mut self, value: &str) -> &mut Self {
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            self.field(&format!("'{value}"))
        } else {
            self.field(value)
        }
    }

    /// A number, or an empty field for none.
    pub fn num(&mut self, value: Option<impl std::fmt::Display>) -> &mut Self {
        match value {
            Some(v) => self.field(&v.to_string()),
            None => self.field(""),
        }
    }

    pub fn end(&mut self) {
        self.out.push_str("\r\n");
        self.fields = 0;
    }

    /// A whole header row.
    pub fn header(&mut self, names: &[&str]) {
        for n in names {
            self.field(n);
        }
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::Csv;

    #[test]
    fn quotes_what_needs_quoting_and_defuses_formulas() {
        let mut c = Csv::default();
        c.field("a,b").text("=SUM(A1)").num(Some(1.5)).num(None::<i64>).text("say \"hi\"");
        c.end();
        assert_eq!(c.out, "\"a,b\",'=SUM(A1),1.5,,\"say \"\"hi\"\"\"\r\n");
    }
}
