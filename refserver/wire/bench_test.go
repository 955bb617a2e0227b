package wire

import (
	"bytes"
	"testing"
)

var (
	benchMsg = Message{ClientID: 99, Conv: 12345, Kind: KindText, Body: bytes.Repeat([]byte("x"), 120)}
	benchDel = Delivery{Conv: 12345, Seq: 77, Sender: []byte("customer-000001"), SenderRole: RoleCustomer, Kind: KindText, ClientID: 99, ServerTime: 1_790_000_000_000_000_000, Body: benchMsg.Body}
)

func BenchmarkEncodeMessage(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchMsg.AppendFrame(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeMessage(b *testing.B) {
	frame := benchMsg.AppendFrame(nil)
	var m Message
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		body, _, err := Split(frame, DefaultMaxFrame)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Decode(body[1:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeDelivery(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchDel.AppendFrame(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeDelivery(b *testing.B) {
	frame := benchDel.AppendFrame(nil)
	var d Delivery
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		body, _, err := Split(frame, DefaultMaxFrame)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Decode(body[1:]); err != nil {
			b.Fatal(err)
		}
	}
}
