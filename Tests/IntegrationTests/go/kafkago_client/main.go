// A service's life cycle with kafka-go (Debian's golang-github-segmentio-kafka-go-dev, 0.2.1)
// against one broker: create a topic, write keyed records with acks=all through a Writer, read
// them through a group Reader committing offsets, check that a second Reader of the group reads
// nothing new, delete the topic.
//
//	kafkago_client [-debug] [-pre-produced TOPIC] BOOTSTRAP CODEC
//
// kafka-go 0.2.1 negotiates nothing (it sends no ApiVersions): it always speaks Metadata v1,
// CreateTopics v0, DeleteTopics v1, Produce v2 (message format v1, magic 1), Fetch v2, ListOffsets
// v1, FindCoordinator v0, JoinGroup v1, SyncGroup v0, Heartbeat v0, LeaveGroup v0, OffsetCommit v2
// and OffsetFetch v1. What varies is CODEC, the Writer's compression: none, gzip, snappy or lz4
// (wrapper messages of magic 1). Its ListGroups, DescribeGroups, OffsetFetch and DescribeConfigs
// are not public, so those steps are listed under "skipped"; the second Reader proves the commit.
//
// -pre-produced TOPIC (diagnostics) skips create and write: TOPIC already holds the 20 records
// (key-NN/value-NN), written by another client, on 3 partitions.
//
// Prints one JSON line, {"ok":true,...} or {"ok":false,"step":...,"error":...}, and exits 1 on
// failure; a watchdog fails the run after 50 s.
//
// Build in GOPATH mode: GO111MODULE=off GOPATH=/usr/share/gocode go build -o kafkago_client main.go
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

const (
	records    = 20
	partitions = 3
)

var (
	outMu   sync.Mutex
	step    = "start"
	summary = map[string]interface{}{"client": "kafka-go"}
	skipped = []string{
		"list_consumer_groups: kafka-go 0.2.1 has no public ListGroups",
		"describe_consumer_groups: kafka-go 0.2.1 has no public DescribeGroups",
		"list_consumer_group_offsets: kafka-go 0.2.1 has no public OffsetFetch (the second Reader starts from the commit)",
		"describe_config: kafka-go 0.2.1 has no DescribeConfigs",
	}
)

var (
	started  = time.Now()
	stepFrom = started
	timings  = map[string]int64{} // step -> milliseconds spent in it
)

func setStep(s string) {
	outMu.Lock()
	now := time.Now()
	timings[step] += now.Sub(stepFrom).Milliseconds()
	step, stepFrom = s, now
	outMu.Unlock()
}

func finish(err error) {
	outMu.Lock()
	defer outMu.Unlock()
	summary["skipped"] = skipped
	timings[step] += time.Since(stepFrom).Milliseconds()
	summary["step_ms"] = timings
	summary["total_ms"] = time.Since(started).Milliseconds()
	if err != nil {
		summary["ok"] = false
		summary["step"] = step
		summary["error"] = err.Error()
	} else {
		summary["ok"] = true
	}
	line, _ := json.Marshal(summary)
	fmt.Println(string(line))
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func check(err error) {
	if err != nil {
		finish(explain(err))
	}
}

// explain names Kafka error codes newer than kafka-go 0.2.1, which prints them as "[87] : ".
func explain(err error) error {
	if code, ok := err.(kafka.Error); ok {
		names := map[int]string{87: "INVALID_RECORD", 35: "UNSUPPORTED_VERSION", 42: "INVALID_REQUEST"}
		if name, known := names[int(code)]; known {
			return fmt.Errorf("Kafka error %d %s", int(code), name)
		}
		return fmt.Errorf("Kafka error %d: %v", int(code), err)
	}
	return err
}

// lastLine passes the Reader's and Writer's error log on to stderr and keeps its last line; it
// drops the Reader's "no messages received" lines, which only say that a fetch waited MaxWait.
type lastLine struct {
	mu   sync.Mutex
	line string
}

func (l *lastLine) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if strings.HasPrefix(line, "no messages received from kafka within the allocated time") {
		return len(p), nil
	}
	l.mu.Lock()
	l.line = line
	l.mu.Unlock()
	return os.Stderr.Write(p)
}

func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.line
}

var lastError = &lastLine{}

func failf(format string, args ...interface{}) { finish(fmt.Errorf(format, args...)) }

func note(key string, value interface{}) {
	outMu.Lock()
	summary[key] = value
	outMu.Unlock()
}

func main() {
	debug := flag.Bool("debug", false, "log kafka-go's internals to stderr")
	preProduced := flag.String("pre-produced", "", "diagnostics: TOPIC already holds the records; skip create and write")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: kafkago_client [-debug] [-pre-produced TOPIC] BOOTSTRAP CODEC")
		os.Exit(2)
	}
	bootstrap, codecName := flag.Arg(0), flag.Arg(1)
	time.AfterFunc(50*time.Second, func() { finish(errors.New("timed out after 50 s")) })
	var logger *log.Logger
	if *debug {
		logger = log.New(os.Stderr, "[kafka-go] ", log.Lmicroseconds)
	}
	errorLogger := log.New(lastError, "", 0)

	setStep("codec")
	var codec kafka.CompressionCodec
	switch codecName {
	case "none":
	case "gzip":
		codec = gzip.NewCompressionCodec()
	case "snappy":
		codec = snappy.NewCompressionCodec()
	case "lz4":
		codec = lz4.NewCompressionCodec()
	default:
		failf("unknown codec %q (none, gzip, snappy, lz4)", codecName)
	}
	note("codec", codecName)

	dialer := &kafka.Dialer{ClientID: "tern-kafka-go-test", Timeout: 5 * time.Second}
	stamp := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	topic := "kafkago-" + codecName + "-" + stamp
	if *preProduced != "" {
		topic = *preProduced
	}
	group := topic + "-group"
	note("topic", topic)
	brokers := []string{bootstrap}
	ctx := context.Background()

	setStep("dial")
	conn, err := dialer.DialContext(ctx, "tcp", bootstrap)
	check(err)
	defer conn.Close()
	check(conn.SetDeadline(time.Now().Add(45 * time.Second)))

	if *preProduced == "" {
		setStep("create_topic")
		check(conn.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}))
	}

	setStep("metadata")
	var found []kafka.Partition
	for deadline := time.Now().Add(10 * time.Second); ; {
		found, err = conn.ReadPartitions(topic)
		if err == nil && len(found) == partitions {
			break
		}
		if time.Now().After(deadline) {
			failf("topic %s has %d partitions (want %d), last error %v", topic, len(found), partitions, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ids := []int{}
	for _, p := range found {
		ids = append(ids, p.ID)
	}
	sort.Ints(ids)
	note("partitions", len(ids))

	// Where the Writer's Hash balancer puts each key: what the Reader must find.
	balancer := &kafka.Hash{}
	partitionOf := map[string]int{}
	perPartition := map[int]int{}
	messages := make([]kafka.Message, 0, records)
	for i := 0; i < records; i++ {
		m := kafka.Message{Key: []byte(fmt.Sprintf("key-%02d", i)), Value: []byte(fmt.Sprintf("value-%02d", i))}
		p := balancer.Balance(m, ids...)
		partitionOf[string(m.Key)] = p
		perPartition[p]++
		messages = append(messages, m)
	}

	if *preProduced == "" {
		setStep("produce")
		writer := kafka.NewWriter(kafka.WriterConfig{
			Brokers:          brokers,
			Topic:            topic,
			Dialer:           dialer,
			Balancer:         &kafka.Hash{},
			MaxAttempts:      3,
			BatchSize:        records,
			BatchTimeout:     50 * time.Millisecond,
			ReadTimeout:      10 * time.Second,
			WriteTimeout:     10 * time.Second,
			RequiredAcks:     -1,
			CompressionCodec: codec,
			Logger:           logger,
			ErrorLogger:      errorLogger,
		})
		writeCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		check(writer.WriteMessages(writeCtx, messages[:records/2]...))
		for _, m := range messages[records/2:] {
			check(writer.WriteMessages(writeCtx, m))
		}
		cancel()
		check(writer.Close())
		note("produced", records)
	}

	// The Writer returns no offsets: ListOffsets v1 on each leader must show them.
	setStep("list_offsets")
	counts := map[string]int{}
	for _, p := range ids {
		leader, err := dialer.DialLeader(ctx, "tcp", bootstrap, topic, p)
		check(err)
		check(leader.SetDeadline(time.Now().Add(10 * time.Second)))
		first, last, err := leader.ReadOffsets()
		check(err)
		leader.Close()
		if first != 0 || last != int64(perPartition[p]) {
			failf("partition %d: offsets [%d, %d), want [0, %d)", p, first, last, perPartition[p])
		}
		counts[strconv.Itoa(p)] = int(last)
	}
	note("per_partition", counts)

	setStep("consume_group")
	got, _ := groupSession(brokers, dialer, group, topic, records, 25*time.Second, logger, errorLogger)
	if len(got) != records {
		failf("consumed %d distinct keys, want %d", len(got), records)
	}
	next := map[int]int64{}
	for key, m := range got {
		want := "value-" + strings.TrimPrefix(key, "key-")
		if string(m.Value) != want || m.Partition != partitionOf[key] || m.Topic != topic {
			failf("key %s: got %q on %s/%d, produced %q on %s/%d", key, m.Value, m.Topic, m.Partition, want, topic, partitionOf[key])
		}
		if m.Offset+1 > next[m.Partition] {
			next[m.Partition] = m.Offset + 1
		}
	}
	for _, p := range ids {
		if next[p] != int64(perPartition[p]) {
			failf("partition %d: read up to offset %d, want %d", p, next[p], perPartition[p])
		}
	}
	note("consumed", records)

	setStep("consume_group_again")
	again, fetches := groupSession(brokers, dialer, group, topic, 0, 3*time.Second, logger, errorLogger)
	if len(again) != 0 {
		failf("second Reader read %d records after the commit", len(again))
	}
	note("second_session_fetches", fetches)

	setStep("delete_topic")
	check(conn.DeleteTopics(topic))
	err = conn.DeleteTopics(topic)
	if err != kafka.UnknownTopicOrPartition {
		failf("deleting %s again: want %v, got %v", topic, kafka.UnknownTopicOrPartition, err)
	}
	setStep("done")
	finish(nil)
}

// groupSession runs one group Reader until it has read `want` records, committing each (sync
// commits: CommitInterval 0), or, for want 0, for `linger` after it joined the group and sent its
// first fetch. Returns the records by key and how many fetches the Reader sent.
func groupSession(brokers []string, dialer *kafka.Dialer, group, topic string, want int, linger time.Duration,
	logger, errorLogger *log.Logger) (map[string]kafka.Message, int64) {
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           brokers,
		GroupID:           group,
		Topic:             topic,
		Dialer:            dialer,
		MinBytes:          1,
		MaxBytes:          1 << 20,
		MaxWait:           250 * time.Millisecond,
		HeartbeatInterval: 1 * time.Second,
		// kafka-go 0.2.1 sends no LeaveGroup when a Reader closes (seen on the wire), so the
		// second Reader's JoinGroup waits until the broker expires the first member: keep the
		// session at Kafka's minimum (group.min.session.timeout.ms, 6 s).
		SessionTimeout:   6 * time.Second,
		RebalanceTimeout: 6 * time.Second,
		RetentionTime:    24 * time.Hour,
		Logger:           logger,
		ErrorLogger:      errorLogger,
	})
	got := map[string]kafka.Message{}
	var mu sync.Mutex
	var fetches, readerErrors int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		for n := 0; want == 0 || n < want; n++ {
			m, err := reader.FetchMessage(ctx)
			if err != nil {
				done <- err
				return
			}
			mu.Lock()
			if _, dup := got[string(m.Key)]; dup {
				mu.Unlock()
				done <- fmt.Errorf("key %s read twice (offset %d)", m.Key, m.Offset)
				return
			}
			got[string(m.Key)] = m
			mu.Unlock()
			if err := reader.CommitMessages(ctx, m); err != nil {
				done <- fmt.Errorf("CommitMessages: %v", err)
				return
			}
		}
		done <- nil
	}()
	deadline := time.After(linger)
	if want == 0 {
		deadline = nil
	}
	joinWait := time.After(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				failf("group Reader: %v (%d reader errors, last: %s)", err, readerErrors, lastError)
			}
			waiting = false
		case <-tick.C:
			stats := reader.Stats()
			fetches += stats.Fetches
			readerErrors += stats.Errors
			if want == 0 && deadline == nil && fetches > 0 {
				deadline = time.After(linger)
			}
		case <-joinWait:
			if want == 0 && deadline == nil {
				failf("second Reader did not join the group and fetch within 20 s (%d reader errors, last: %s)", readerErrors, lastError)
			}
		case <-deadline:
			if want > 0 {
				mu.Lock()
				n := len(got)
				mu.Unlock()
				failf("group Reader read %d of %d records in %v (%d reader errors, last: %s)", n, want, linger, readerErrors, lastError)
			}
			waiting = false
		}
	}
	cancel()
	if want == 0 {
		if err := <-done; err != context.Canceled {
			failf("group Reader: %v", err)
		}
	}
	check(reader.Close())
	mu.Lock()
	defer mu.Unlock()
	return got, fetches
}
