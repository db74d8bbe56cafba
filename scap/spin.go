package scap

import "runtime"

// spinTries is how many times a goroutine handing buffers or batches to
// another polls the channel, yielding in between, before it blocks on it. A
// goroutine that blocks parks its thread, and the other side wakes it up
// again: measured on a 2-CPU VM, a read of 0.9 s spent 0.24 s with the
// event loop blocked (1,450 times) and 0.3 s with the decoder blocked
// (1,600 times), taking turns more than working side by side. Polling a
// little first (2,000 yields take about 0.4 ms) keeps both threads running;
// a side that waits longer (a slow consumer, a pipe) still blocks.
const spinTries = 2000

// spinSend sends v on ch if it can within spinTries polls.
func spinSend[T any](ch chan<- T, v T) bool {
	for range spinTries {
		select {
		case ch <- v:
			return true
		default:
			runtime.Gosched()
		}
	}
	return false
}

// spinReceive receives from ch if it can within spinTries polls: got
// reports whether it did, ok is the receive's (false: ch is closed).
func spinReceive[T any](ch <-chan T) (v T, ok, got bool) {
	for range spinTries {
		select {
		case v, ok = <-ch:
			return v, ok, true
		default:
			runtime.Gosched()
		}
	}
	return v, false, false
}
