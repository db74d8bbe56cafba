package scap

// zlibWriteBuf is the input buffer of a zlib gzFile opened for writing
// (GZBUFSIZE): libscap writes capture files through gzwrite, "wbT" for plain
// files, and gzwrite holds up to this many bytes before they reach the file.
const zlibWriteBuf = 8192

// zlibOut follows, for a plain file, what zlib's gzoffset() says while
// libscap writes it: the bytes that have reached the file, which trail the
// bytes written by what gzwrite still buffers. sysdig's -C compares that
// offset, not the bytes written, with the size limit, so rotating at the same
// events as sysdig needs the same count. A write shorter than the buffer is
// copied into it, and the buffer goes to the file when it is full and more
// bytes arrive; a longer write first flushes the buffer, then goes to the
// file directly (zlib gz_write).
type zlibOut struct {
	flushed int64 // bytes in the file
	held    int64 // bytes in the buffer
}

func (z *zlibOut) write(n int64) {
	if n <= 0 {
		return
	}
	if n >= zlibWriteBuf {
		z.flushed += z.held + n
		z.held = 0
		return
	}
	for n > 0 {
		c := min(zlibWriteBuf-z.held, n)
		z.held += c
		n -= c
		if n > 0 {
			z.flushed += z.held
			z.held = 0
		}
	}
}

// smallWrites accounts for n bytes written in pieces shorter than the buffer,
// as libscap writes the section header and the tables: the buffer goes to the
// file each time it is full and more bytes follow.
func (z *zlibOut) smallWrites(n int64) {
	if n <= 0 {
		return
	}
	h := z.held + n
	k := (h - 1) / zlibWriteBuf
	z.flushed += k * zlibWriteBuf
	z.held = h - k*zlibWriteBuf
}
