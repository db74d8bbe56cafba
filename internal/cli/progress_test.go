package cli

import (
	"bufio"
	"os"
	"testing"
)

// The offsets zlib 1.2.13 (Debian 12, what sysdig 0.29.3 links) reports with
// gzoffset() after each gzread() or backward gzseek() of the sequences below,
// measured on testdata/members.gz (three gzip members: levels 6, 0 and 1) and
// on a plain file of 130000 bytes. The reads are libscap's: an event block
// header of 8 bytes, then the rest of the block, with now and then a large
// one read straight into the caller's buffer.
func TestReadModels(t *testing.T) {
	f, err := os.Open("testdata/members.gz")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	tests := []struct {
		name      string
		m         readModel
		fromFirst bool // the model starts at the first seek (plain files)
		ops       []struct {
			seek      bool
			n, offset int64
		}
	}{
		{"gzip members", newGzipModel(bufio.NewReader(f), f, st.Size()), false, zlibReads},
		{"plain", &plainModel{size: 130000}, true, plainReads},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.m.closeModel()
			started := !tt.fromFirst
			for i, op := range tt.ops {
				if op.seek {
					started = true
					tt.m.seek(op.n)
				} else if started {
					tt.m.read(op.n)
				}
				if !started {
					continue
				}
				if got := tt.m.offset(); got != op.offset {
					t.Fatalf("op %d (seek %v, %d): offset %d, zlib says %d", i, op.seek, op.n, got, op.offset)
				}
			}
		})
	}
}

var zlibReads = []struct {
	seek      bool
	n, offset int64
}{
	{false, 24, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152},
	{false, 30, 7152}, {false, 30, 7152}, {false, 30, 7152}, {true, 1000, 0}, {false, 8, 7152}, {false, 141, 7152},
	{false, 8, 7152}, {false, 262, 7152}, {false, 8, 7152}, {false, 260, 7152}, {false, 8, 7152}, {false, 25247, 13266},
	{false, 8, 13266}, {false, 97, 13266}, {false, 8, 13266}, {false, 287, 13266}, {false, 8, 13266}, {false, 7211, 19362},
	{true, 18657, 0}, {false, 8, 13266}, {false, 262, 13266}, {false, 8, 13266}, {false, 6964, 13266}, {false, 8, 13266},
	{false, 88, 13266}, {false, 8, 13266}, {false, 131, 13266}, {false, 8, 13266}, {false, 174, 13266}, {false, 8, 13266},
	{false, 4338, 13266}, {false, 8, 13266}, {false, 192, 13266}, {false, 8, 13266}, {false, 103, 13266}, {false, 8, 13266},
	{false, 73, 13266}, {false, 8, 13266}, {false, 156, 13266}, {false, 8, 13266}, {false, 267, 13266}, {false, 8, 13266},
	{false, 97, 13266}, {false, 8, 13266}, {false, 5956, 19362}, {false, 8, 19362}, {false, 213, 19362}, {false, 8, 19362},
	{false, 162, 19362}, {false, 8, 19362}, {false, 18155, 25530}, {true, 45391, 0}, {false, 8, 19362}, {false, 169, 19362},
	{false, 8, 19362}, {false, 193, 19362}, {false, 8, 19362}, {false, 22556, 26620}, {false, 8, 27260}, {false, 26544, 54719},
	{false, 8, 54719}, {false, 141, 54719}, {false, 8, 54719}, {false, 300, 54719}, {false, 8, 54719}, {false, 4084, 54719},
	{false, 8, 54719}, {false, 88, 54719}, {false, 8, 54719}, {false, 200, 54719}, {false, 8, 54719}, {false, 31, 54719},
	{false, 8, 54719}, {false, 148, 54719}, {false, 8, 54719}, {false, 183, 54719}, {false, 8, 54719}, {false, 209, 54719},
	{false, 8, 54719}, {false, 73, 54719}, {false, 8, 54719}, {false, 87, 54719}, {false, 8, 54719}, {false, 157, 54719},
	{false, 8, 54719}, {false, 69, 54719}, {false, 8, 54719}, {false, 134, 54719}, {true, 59679, 0}, {false, 8, 25530},
	{false, 250, 25530}, {true, 20653, 0}, {false, 8, 13266}, {false, 113, 13266}, {false, 8, 13266}, {false, 196, 13266},
	{false, 8, 13266}, {false, 158, 13266}, {false, 8, 13266}, {false, 229, 13266}, {false, 8, 13266}, {false, 8727, 13266},
	{false, 8, 13266}, {false, 242, 13266}, {true, 29156, 0}, {false, 8, 13266}, {false, 167, 13266}, {false, 8, 13266},
	{false, 166, 13266}, {true, 22731, 0}, {false, 8, 13266}, {false, 282, 13266}, {false, 8, 13266}, {false, 26, 13266},
	{false, 8, 13266}, {false, 173, 13266}, {false, 8, 13266}, {false, 8692, 13266}, {true, 31594, 0}, {false, 8, 13266},
	{false, 264, 13266}, {false, 8, 13266}, {false, 121, 13266}, {false, 8, 13266}, {false, 160, 13266}, {false, 8, 13266},
	{false, 224, 13266}, {false, 8, 13266}, {false, 289, 13266}, {false, 8, 13266}, {false, 20, 13266}, {true, 32582, 0},
	{false, 8, 13266}, {false, 28061, 23676}, {false, 8, 27260}, {false, 181, 27260}, {false, 8, 27260}, {false, 219, 27260},
	{false, 8, 27260}, {false, 188, 27260}, {false, 8, 27260}, {false, 1654, 27260}, {false, 8, 27260}, {false, 23934, 47283},
	{false, 8, 47283}, {false, 42, 47283}, {true, 82392, 0}, {false, 8, 43659}, {false, 181, 43659}, {false, 8, 43659},
	{false, 145, 43659}, {false, 8, 43659}, {false, 56, 43659}, {false, 8, 43659}, {false, 21718, 54719}, {false, 8, 54719},
	{false, 154, 54719}, {false, 8, 54719}, {false, 291, 54719}, {false, 8, 54719}, {false, 7648, 61199}, {false, 8, 61199},
	{false, 262, 61199}, {true, 85645, 0}, {false, 8, 43659}, {false, 212, 43659}, {false, 8, 43659}, {false, 82, 43659},
	{false, 8, 43659}, {false, 165, 43659}, {true, 85906, 0}, {false, 8, 43659}, {false, 290, 43659}, {false, 8, 43659},
	{false, 25449, 61199}, {false, 8, 61199}, {false, 112, 61199}, {false, 8, 61199}, {false, 147, 61199}, {false, 8, 61199},
	{false, 223, 61199}, {false, 8, 61199}, {false, 212, 61199}, {false, 8, 61199}, {false, 6659, 61199}, {false, 8, 61199},
	{false, 284, 61199}, {false, 8, 61199}, {false, 96, 61199}, {false, 8, 61199}, {false, 284, 61199}, {false, 8, 61199},
	{false, 18785, 64206}, {false, 8, 64206},
}

var plainReads = []struct {
	seek      bool
	n, offset int64
}{
	{false, 24, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192},
	{false, 30, 8192}, {false, 30, 8192}, {false, 30, 8192}, {true, 1000, 1000}, {false, 8, 17384}, {false, 28537, 33768},
	{false, 8, 33768}, {false, 258, 33768}, {false, 8, 33768}, {false, 100, 33768}, {false, 8, 33768}, {false, 1835, 33768},
	{false, 8, 33768}, {false, 130, 33768}, {false, 8, 33768}, {false, 219, 33768}, {false, 8, 33768}, {false, 247, 33768},
	{false, 8, 33768}, {false, 22, 33768}, {false, 8, 33768}, {false, 104, 33768}, {false, 8, 33768}, {false, 296, 33768},
	{false, 8, 33768}, {false, 120, 33768}, {false, 8, 33768}, {false, 104, 33768}, {false, 8, 33768}, {false, 21, 33768},
	{false, 8, 33768}, {false, 201, 33768}, {false, 8, 33768}, {false, 114, 33768}, {false, 8, 33768}, {false, 31, 33768},
	{true, 30028, 30028}, {false, 8, 46412}, {false, 207, 46412}, {false, 8, 46412}, {false, 112, 46412}, {false, 8, 46412},
	{false, 145, 46412}, {false, 8, 46412}, {false, 201, 46412}, {false, 8, 46412}, {false, 208, 46412}, {false, 8, 46412},
	{false, 19799, 62796}, {false, 8, 62796}, {false, 21953, 79180}, {false, 8, 79180}, {false, 182, 79180}, {false, 8, 79180},
	{false, 178, 79180}, {false, 8, 79180}, {false, 293, 79180}, {false, 8, 79180}, {false, 196, 79180}, {false, 8, 79180},
	{false, 94, 79180}, {false, 8, 79180}, {false, 2069, 79180}, {false, 8, 79180}, {false, 231, 79180}, {false, 8, 79180},
	{false, 50, 79180}, {false, 8, 79180}, {false, 106, 79180}, {false, 8, 79180}, {false, 182, 79180}, {false, 8, 79180},
	{false, 18228, 95564}, {false, 8, 95564}, {false, 275, 95564}, {false, 8, 95564}, {false, 29196, 124093}, {false, 8, 130000},
	{false, 202, 130000}, {false, 8, 130000}, {false, 206, 130000}, {false, 8, 130000}, {false, 155, 130000}, {false, 8, 130000},
	{false, 2463, 130000}, {false, 8, 130000}, {false, 262, 130000}, {false, 8, 130000}, {false, 23968, 130000}, {false, 8, 130000},
}
