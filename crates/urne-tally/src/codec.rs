//! Strict reading of the tally encodings, with errors that name the field at fault.

use urne_crypto::Ciphertext;

/// A tally encoding that is not canonical: which field, and what was wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{record}: field `{field}`: {detail}")]
pub struct DecodeError {
    record: &'static str,
    field: String,
    detail: String,
}

impl DecodeError {
    pub(crate) fn new(
        record: &'static str,
        field: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            record,
            field: field.into(),
            detail: detail.into(),
        }
    }

    /// The field at fault, as a path from the top of the encoding (`contests[1].entries[2].count`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What was wrong, in words.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

pub(crate) struct Reader<'a> {
    record: &'static str,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(record: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            record,
            rest: bytes,
        }
    }

    pub(crate) fn error(&self, field: impl Into<String>, detail: impl Into<String>) -> DecodeError {
        DecodeError::new(self.record, field, detail)
    }

    fn take<const N: usize>(&mut self, field: &dyn Fn() -> String) -> Result<[u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(self.error(
                field(),
                format!("truncated ({N} bytes needed, {} left)", self.rest.len()),
            )),
        }
    }

    pub(crate) fn version(&mut self, expected: u8) -> Result<(), DecodeError> {
        let [found] = self.take::<1>(&|| "version".into())?;
        if found != expected {
            return Err(self.error("version", format!("unsupported version {found}")));
        }
        Ok(())
    }

    /// A version byte that is one of two; which.
    pub(crate) fn either_version(&mut self, first: u8, second: u8) -> Result<u8, DecodeError> {
        let [found] = self.take::<1>(&|| "version".into())?;
        if found != first && found != second {
            return Err(self.error("version", format!("unsupported version {found}")));
        }
        Ok(found)
    }

    pub(crate) fn bytes32(&mut self, field: &dyn Fn() -> String) -> Result<[u8; 32], DecodeError> {
        self.take::<32>(field)
    }

    pub(crate) fn u16(&mut self, field: &dyn Fn() -> String) -> Result<u16, DecodeError> {
        self.take::<2>(field).map(u16::from_be_bytes)
    }

    pub(crate) fn u64(&mut self, field: &dyn Fn() -> String) -> Result<u64, DecodeError> {
        self.take::<8>(field).map(u64::from_be_bytes)
    }

    /// A count in [1, max].
    pub(crate) fn count(
        &mut self,
        field: &dyn Fn() -> String,
        max: usize,
    ) -> Result<usize, DecodeError> {
        let n = usize::from(self.u16(field)?);
        if n == 0 || n > max {
            return Err(self.error(field(), format!("a count in [1, {max}], found {n}")));
        }
        Ok(n)
    }

    pub(crate) fn ciphertext(
        &mut self,
        field: &dyn Fn() -> String,
    ) -> Result<Ciphertext, DecodeError> {
        let bytes = self.take::<64>(field)?;
        Ciphertext::decode(&bytes).map_err(|e| {
            let inner = if e.field().is_empty() {
                String::new()
            } else {
                format!(".{}", e.field())
            };
            self.error(format!("{}{inner}", field()), format!("{:?}", e.kind()))
        })
    }

    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if !self.rest.is_empty() {
            return Err(self.error("end", format!("{} bytes after the end", self.rest.len())));
        }
        Ok(())
    }
}
