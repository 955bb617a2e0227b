package record_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/reports"
)

// A run: one recorder, a shard per event loop, a tick per interval, then
// the result document beside the interval logs.
func Example() {
	dir, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	cfg := record.DefaultConfig()
	cfg.Dir = dir
	rec, err := record.New(cfg, start)
	if err != nil {
		log.Fatal(err)
	}
	loop := rec.NewShard() // one per event loop
	ledger := rec.Ledger()

	// The customer's phone (device 1) sends a message in conversation 7,
	// which the agent's console (device 2) takes part in.
	_ = ledger.Join(7, 1)
	_ = ledger.Join(7, 2)
	intended := start.Add(100 * time.Millisecond)
	sent := intended.Add(2 * time.Millisecond) // the generator was 2ms late
	loop.ActionStarted(intended, sent)
	ledger.Sent(7, 1, 1001, intended, sent)
	ledger.Acked(7, 1001, 1)
	loop.Record(record.Ack, intended, sent, sent.Add(400*time.Microsecond))
	at := sent.Add(700 * time.Microsecond)
	if i, s, ok := ledger.Received(2, 7, 1, 1001); ok {
		loop.Record(record.Delivery, i, s, at)
	}

	if _, err := rec.Tick(start.Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	if err := rec.Close(start.Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	res, err := rec.Result(reports.Run{Tool: "swarmdesk bench", Scenario: "smoke", Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := reports.WriteFile(filepath.Join(dir, "result.json"), res); err != nil {
		log.Fatal(err)
	}

	d := res.Latency["delivery"]
	fmt.Printf("delivery: %d, p50 %.1fms corrected, %.1fms raw\n", d.Count, d.P50Ms, d.Raw.P50Ms)
	fmt.Printf("messages: %+v\n", res.Messages)
	fmt.Println("valid:", res.Valid)
	_, err = os.Stat(filepath.Join(dir, "delivery.hlog"))
	fmt.Println("delivery.hlog written:", err == nil)
	// Output:
	// delivery: 1, p50 2.7ms corrected, 0.7ms raw
	// messages: {Sent:1 Delivered:1 Lost:0 Duplicated:0 Reordered:0 Unacked:0 CutOff:0}
	// valid: true
	// delivery.hlog written: true
}
