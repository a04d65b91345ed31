//! The Thrift compact protocol, write side only: just what Parquet's footer and page
//! headers need (structs, i32/i64, binary, lists, booleans).

const I32: u8 = 5;
const I64: u8 = 6;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const STRUCT: u8 = 12;
const TRUE: u8 = 1;
const FALSE: u8 = 2;

/// Writes one struct at a time; fields must be written in increasing id order.
pub struct Compact<'a> {
    out: &'a mut Vec<u8>,
    last: Vec<i16>,
}

impl<'a> Compact<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Compact { out, last: vec![0] }
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    fn field(&mut self, id: i16, ty: u8) {
        let last = self.last.last_mut().expect("inside a struct");
        let delta = id - *last;
        *last = id;
        if delta > 0 && delta <= 15 {
            self.out.push(((delta as u8) << 4) | ty);
        } else {
            self.out.push(ty);
            self.zigzag(id as i64);
        }
    }

    pub fn i32(&mut self, id: i16, v: i32) -> &mut Self {
        self.field(id, I32);
        self.zigzag(v as i64);
        self
    }

    pub fn i64(&mut self, id: i16, v: i64) -> &mut Self {
        self.field(id, I64);
        self.zigzag(v);
        self
    }

    pub fn bool(&mut self, id: i16, v: bool) -> &mut Self {
        self.field(id, if v { TRUE } else { FALSE });
        self
    }

    pub fn binary(&mut self, id: i16, v: &[u8]) -> &mut Self {
        self.field(id, BINARY);
        self.varint(v.len() as u64);
        self.out.extend_from_slice(v);
        self
    }

    /// Opens a nested struct field; close it with [`Compact::end`].
    pub fn begin(&mut self, id: i16) -> &mut Self {
        self.field(id, STRUCT);
        self.last.push(0);
        self
    }

    /// Closes the innermost open struct (writes STOP).
    pub fn end(&mut self) -> &mut Self {
        self.out.push(0);
        self.last.pop();
        self
    }

    fn list_header(&mut self, id: i16, ty: u8, n: usize) {
        self.field(id, LIST);
        if n < 15 {
            self.out.push(((n as u8) << 4) | ty);
        } else {
            self.out.push(0xF0 | ty);
            self.varint(n as u64);
        }
    }

    pub fn list_i32(&mut self, id: i16, vs: &[i32]) -> &mut Self {
        self.list_header(id, I32, vs.len());
        for &v in vs {
            self.zigzag(v as i64);
        }
        self
    }

    pub fn list_binary(&mut self, id: i16, vs: &[&[u8]]) -> &mut Self {
        self.list_header(id, BINARY, vs.len());
        for v in vs {
            self.varint(v.len() as u64);
            self.out.extend_from_slice(v);
        }
        self
    }

    /// A list of structs: `each` writes the fields of element `i` (no begin/end needed).
    pub fn list_struct(
        &mut self,
        id: i16,
        n: usize,
        mut each: impl FnMut(&mut Self, usize),
    ) -> &mut Self {
        self.list_header(id, STRUCT, n);
        for i in 0..n {
            self.last.push(0);
            each(self, i);
            self.out.push(0);
            self.last.pop();
        }
        self
    }

    /// Ends the top-level struct.
    pub fn finish(&mut self) {
        self.out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_fields_with_deltas_zigzag_and_long_jumps() {
        let mut out = Vec::new();
        let mut c = Compact::new(&mut out);
        c.i32(1, 3).i64(2, -1).binary(4, b"ab").i32(20, 1);
        c.finish();
        // id 1 i32 zigzag(3)=6; id 2 i64 zigzag(-1)=1; id 4 binary len 2; id 20: long form (type, zigzag(20)=40).
        assert_eq!(
            out,
            vec![0x15, 6, 0x16, 1, 0x28, 2, b'a', b'b', 0x05, 40, 2, 0]
        );
    }

    #[test]
    fn encodes_lists_short_and_long() {
        let mut out = Vec::new();
        let mut c = Compact::new(&mut out);
        c.list_i32(1, &[0, 3]);
        let many = vec![1; 20];
        c.list_i32(2, &many);
        c.finish();
        assert_eq!(&out[..5], &[0x19, 0x25, 0, 6, 0x19]);
        assert_eq!(&out[5..7], &[0xF5, 20]);
    }
}
