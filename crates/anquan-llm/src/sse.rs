//! A minimal server-sent-events parser: bytes in, `data` payloads out.

/// Accumulates bytes and yields complete events' `data` fields (multi-line data joined by `\n`).
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
}

impl SseParser {
    /// Feed a chunk; returns the data of every event completed by it.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some((end, sep)) = find_event_end(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..end + sep).collect();
            let text = String::from_utf8_lossy(&event[..end]);
            let mut data: Vec<&str> = Vec::new();
            for line in text.lines() {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if let Some(d) = line.strip_prefix("data:") {
                    data.push(d.strip_prefix(' ').unwrap_or(d));
                }
            }
            if !data.is_empty() {
                out.push(data.join("\n"));
            }
        }
        out
    }
}

/// The end of the first complete event: index of the blank-line separator and its length.
fn find_event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i + 1 < buf.len() {
        if buf[i] == b'\n' && buf[i + 1] == b'\n' {
            return Some((i, 2));
        }
        if i + 3 < buf.len() && &buf[i..i + 4] == b"\r\n\r\n" {
            return Some((i, 4));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_utf8_boundaries() {
        let whole = "data: {\"a\":\"你好\"}\n\n: comment\n\ndata: [DONE]\n\n".as_bytes();
        for cut in 0..whole.len() {
            let mut p = SseParser::default();
            let mut got = p.push(&whole[..cut]);
            got.extend(p.push(&whole[cut..]));
            assert_eq!(
                got,
                vec!["{\"a\":\"你好\"}".to_owned(), "[DONE]".to_owned()],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn crlf_and_multiline_data() {
        let mut p = SseParser::default();
        assert_eq!(
            p.push(b"data: a\r\ndata: b\r\n\r\n"),
            vec!["a\nb".to_owned()]
        );
    }
}
