// A service's life cycle with sarama (Debian's golang-github-shopify-sarama-dev, 1.22) against one
// broker, at the Kafka version given on the command line: create a topic, produce keyed records
// with acks=all, consume them in a consumer group committing offsets, check that a second session
// of the group reads nothing new, inspect the group and its offsets, describe the topic's configs
// and delete the topic.
//
//	sarama_client [-debug] [-producer-version VERSION] [-tls-ca CA [-tls-cert CERT -tls-key KEY]]
//	              [-sasl-user USER -sasl-password PASSWORD [-sasl-mechanism M]] BOOTSTRAP VERSION
//
// VERSION is a sarama KafkaVersion ("0.10.0.0", "2.1.0", ...) or "max" (sarama.MaxVersion). Steps
// this sarama refuses below some version (it checks the configured version before sending) are
// skipped and listed under "skipped". Prints one JSON line, {"ok":true,...} or
// {"ok":false,"step":...,"error":...}, and exits 1 on failure; a watchdog fails the run after 50 s.
// -producer-version runs the producer alone at another version (the consumer side of an old
// version without its producer); -debug sends sarama's log to stderr.
//
// Build in GOPATH mode: GO111MODULE=off GOPATH=/usr/share/gocode go build -o sarama_client main.go
package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io/ioutil"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

const records = 20

var (
	outMu   sync.Mutex
	step    = "start"
	summary = map[string]interface{}{"client": "sarama"}
	skipped = []string{}
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

// explain names Kafka error codes newer than sarama 1.22, which calls them "Unknown error, how did
// this happen?".
func explain(err error) error {
	if code, ok := err.(sarama.KError); ok {
		names := map[sarama.KError]string{87: "INVALID_RECORD"}
		if name, known := names[code]; known {
			return fmt.Errorf("Kafka error %d %s", int16(code), name)
		}
	}
	return err
}

func failf(format string, args ...interface{}) { finish(fmt.Errorf(format, args...)) }

func note(key string, value interface{}) {
	outMu.Lock()
	summary[key] = value
	outMu.Unlock()
}

func skip(what string) {
	outMu.Lock()
	skipped = append(skipped, what)
	outMu.Unlock()
}

func main() {
	debug := flag.Bool("debug", false, "log sarama's internals to stderr")
	producerVersionArg := flag.String("producer-version", "", "diagnostics: produce at this version instead of VERSION")
	tlsCA := flag.String("tls-ca", "", "TLS: trust this PEM CA file (the broker listener is SSL or SASL_SSL)")
	tlsCert := flag.String("tls-cert", "", "TLS: present this PEM client certificate (with -tls-key)")
	tlsKey := flag.String("tls-key", "", "TLS: the client certificate's PEM key")
	saslUser := flag.String("sasl-user", "", "SASL as this user (the listener is SASL_PLAINTEXT or SASL_SSL)")
	saslPassword := flag.String("sasl-password", "", "SASL password")
	saslMechanism := flag.String("sasl-mechanism", "PLAIN", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: sarama_client [-debug] [-producer-version VERSION] BOOTSTRAP VERSION")
		os.Exit(2)
	}
	bootstrap, versionArg := flag.Arg(0), flag.Arg(1)
	time.AfterFunc(50*time.Second, func() { finish(errors.New("timed out after 50 s")) })
	if *debug {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}

	setStep("parse_version")
	version := parseVersion(versionArg)
	note("version", version.String())

	cfg := sarama.NewConfig()
	cfg.Version = version
	cfg.ClientID = "tern-sarama-test"
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 15 * time.Second
	cfg.Net.WriteTimeout = 5 * time.Second
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewHashPartitioner
	cfg.Producer.Retry.Max = 3
	cfg.Producer.Retry.Backoff = 200 * time.Millisecond
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 250 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 20 * time.Second
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 500 * time.Millisecond
	cfg.Admin.Timeout = 10 * time.Second
	if *tlsCA != "" {
		pem, err := ioutil.ReadFile(*tlsCA)
		check(err)
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			check(fmt.Errorf("no certificate in %s", *tlsCA))
		}
		tlsConfig := &tls.Config{RootCAs: roots}
		if *tlsCert != "" {
			pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
			check(err)
			tlsConfig.Certificates = []tls.Certificate{pair}
		}
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tlsConfig
	}
	if *saslUser != "" {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLMechanism(*saslMechanism)
		switch *saslMechanism {
		case sarama.SASLTypeSCRAMSHA256:
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha256.New} }
		case sarama.SASLTypeSCRAMSHA512:
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha512.New} }
		}
		cfg.Net.SASL.User = *saslUser
		cfg.Net.SASL.Password = *saslPassword
	}
	check(cfg.Validate())

	stamp := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	topic := "sarama-" + strings.Replace(version.String(), ".", "-", -1) + "-" + stamp
	group := topic + "-group"
	note("topic", topic)
	addrs := []string{bootstrap}

	setStep("client")
	client, err := sarama.NewClient(addrs, cfg)
	check(err)
	defer client.Close()

	setStep("cluster_admin")
	admin, err := sarama.NewClusterAdmin(addrs, cfg)
	check(err)
	defer admin.Close()

	// CreateTopics needs 0.10.1 in sarama; below that the Metadata v1 request for the topic
	// creates it (the broker's auto-creation, with its num.partitions).
	setStep("create_topic")
	wantPartitions := 3
	if version.IsAtLeast(sarama.V0_10_1_0) {
		check(admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false))
		err = admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false)
		if err == nil || !strings.Contains(err.Error(), sarama.ErrTopicAlreadyExists.Error()) {
			failf("creating %s again: want %v, got %v", topic, sarama.ErrTopicAlreadyExists, err)
		}
	} else {
		skip("create_topic: CreateTopics needs Version >= 0.10.1 in sarama (auto-created instead)")
		wantPartitions = 0
	}

	setStep("metadata")
	var partitions []int32
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err = client.RefreshMetadata(topic); err == nil {
			partitions, err = client.Partitions(topic)
		}
		if err == nil && len(partitions) > 0 && (wantPartitions == 0 || len(partitions) == wantPartitions) {
			break
		}
		if time.Now().After(deadline) {
			failf("topic %s has partitions %v (want %d), last error %v", topic, partitions, wantPartitions, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	note("partitions", len(partitions))

	// Half the records one by one, half in one SendMessages call (one produce request, a batch of
	// several records for each partition).
	setStep("produce")
	producerCfg := cfg
	if *producerVersionArg != "" {
		copied := *cfg
		copied.Version = parseVersion(*producerVersionArg)
		producerCfg = &copied
		note("producer_version", copied.Version.String())
	}
	producer, err := sarama.NewSyncProducer(addrs, producerCfg)
	check(err)
	offsetOf := map[string]int64{}    // key -> offset
	partitionOf := map[string]int32{} // key -> partition
	perPartition := map[int32][]int64{}
	messages := make([]*sarama.ProducerMessage, 0, records)
	for i := 0; i < records; i++ {
		messages = append(messages, &sarama.ProducerMessage{
			Topic: topic,
			Key:   sarama.StringEncoder(fmt.Sprintf("key-%02d", i)),
			Value: sarama.StringEncoder(fmt.Sprintf("value-%02d", i)),
		})
	}
	for _, m := range messages[:records/2] {
		p, o, err := producer.SendMessage(m)
		check(err)
		if p != m.Partition || o != m.Offset {
			failf("SendMessage returned %d/%d but the message says %d/%d", p, o, m.Partition, m.Offset)
		}
	}
	check(producer.SendMessages(messages[records/2:]))
	check(producer.Close())
	for _, m := range messages {
		key, _ := m.Key.Encode()
		offsetOf[string(key)] = m.Offset
		partitionOf[string(key)] = m.Partition
		perPartition[m.Partition] = append(perPartition[m.Partition], m.Offset)
	}
	counts := map[string]int{}
	for p, offsets := range perPartition {
		sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
		for i, o := range offsets {
			if o != int64(i) {
				failf("partition %d got offsets %v, want 0..%d", p, offsets, len(offsets)-1)
			}
		}
		counts[strconv.Itoa(int(p))] = len(offsets)
	}
	if len(partitions) > 1 && len(perPartition) < 2 {
		failf("20 keys all hashed to one of %d partitions: %v", len(partitions), counts)
	}
	note("produced", records)
	note("per_partition", counts)

	setStep("list_offsets")
	for _, p := range partitions {
		newest, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		check(err)
		oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		check(err)
		if oldest != 0 || newest != int64(len(perPartition[p])) {
			failf("partition %d: offsets [%d, %d), want [0, %d)", p, oldest, newest, len(perPartition[p]))
		}
	}

	verify := func(got map[string]consumed) {
		if len(got) != records {
			failf("consumed %d distinct keys, want %d", len(got), records)
		}
		for key, c := range got {
			want := "value-" + strings.TrimPrefix(key, "key-")
			if c.value != want || c.partition != partitionOf[key] || c.offset != offsetOf[key] || c.count != 1 {
				failf("key %s: got %q at %d/%d (%d times), produced %q at %d/%d",
					key, c.value, c.partition, c.offset, c.count, want, partitionOf[key], offsetOf[key])
			}
		}
	}

	if version.IsAtLeast(sarama.V0_10_2_0) {
		setStep("consume_group")
		got, initial := groupSession(addrs, cfg, group, topic, records, 25*time.Second)
		verify(got)
		for p, o := range initial {
			if o != 0 && o != sarama.OffsetOldest {
				failf("first session: partition %d claimed at offset %d, want 0 or OffsetOldest", p, o)
			}
		}
		setStep("consume_group_again")
		again, initial := groupSession(addrs, cfg, group, topic, 0, 2*time.Second)
		if len(again) != 0 {
			failf("second session read %d records after the commit", len(again))
		}
		for _, p := range partitions {
			if initial[p] != int64(len(perPartition[p])) {
				failf("second session: partition %d claimed at offset %d, want %d (committed)", p, initial[p], len(perPartition[p]))
			}
		}
	} else {
		skip("consumer_group: sarama.ConsumerGroup needs Version >= 0.10.2 (group joined by hand with JoinGroup v0/SyncGroup v0 instead)")
		setStep("consume_manual_group")
		got, _ := manualGroupSession(client, group, topic, partitions, records, 20*time.Second)
		verify(got)
		setStep("consume_manual_group_again")
		again, initial := manualGroupSession(client, group, topic, partitions, 0, 2*time.Second)
		if len(again) != 0 {
			failf("second session read %d records after the commit", len(again))
		}
		for _, p := range partitions {
			if initial[p] != int64(len(perPartition[p])) {
				failf("second session: partition %d starts at committed offset %d, want %d", p, initial[p], len(perPartition[p]))
			}
		}
	}
	note("consumed", records)

	setStep("list_consumer_groups")
	groups, err := admin.ListConsumerGroups()
	check(err)
	if protocolType, found := groups[group]; !found || protocolType != "consumer" {
		failf("ListGroups: group %s has protocol type %q (listed: %v), want \"consumer\"", group, protocolType, found)
	}

	setStep("describe_consumer_groups")
	descriptions, err := admin.DescribeConsumerGroups([]string{group})
	check(err)
	if len(descriptions) != 1 {
		failf("DescribeGroups returned %d groups, want 1", len(descriptions))
	}
	d := descriptions[0]
	if d.Err != sarama.ErrNoError || d.GroupId != group || d.State != "Empty" || d.ProtocolType != "consumer" || len(d.Members) != 0 {
		failf("DescribeGroups: err=%v group=%q state=%q protocolType=%q members=%d, want an Empty consumer group",
			d.Err, d.GroupId, d.State, d.ProtocolType, len(d.Members))
	}
	note("group_state", d.State)

	setStep("list_consumer_group_offsets")
	offsets, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: partitions})
	check(err)
	if offsets.Err != sarama.ErrNoError {
		failf("OffsetFetch: %v", offsets.Err)
	}
	committed := int64(0)
	for _, p := range partitions {
		block := offsets.GetBlock(topic, p)
		if block == nil || block.Err != sarama.ErrNoError {
			failf("OffsetFetch: partition %d: %+v", p, block)
		}
		if block.Offset != int64(len(perPartition[p])) {
			failf("OffsetFetch: partition %d committed %d, want %d", p, block.Offset, len(perPartition[p]))
		}
		committed += block.Offset
	}
	if committed != records {
		failf("committed offsets add up to %d, want %d", committed, records)
	}
	note("committed", committed)

	setStep("describe_config")
	if version.IsAtLeast(sarama.V0_11_0_0) {
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
		check(err)
		if len(entries) == 0 {
			failf("DescribeConfigs returned no entries for %s", topic)
		}
		names := map[string]string{}
		for _, e := range entries {
			names[e.Name] = e.Value
		}
		if _, found := names["cleanup.policy"]; !found {
			failf("DescribeConfigs for %s has no cleanup.policy among %d entries", topic, len(entries))
		}
		note("config_entries", len(entries))
	} else {
		skip("describe_config: DescribeConfigs needs Version >= 0.11 in sarama")
	}

	setStep("delete_topic")
	if version.IsAtLeast(sarama.V0_10_1_0) {
		check(admin.DeleteTopic(topic))
		for deadline := time.Now().Add(10 * time.Second); ; {
			topics, err := admin.ListTopics()
			check(err)
			if _, found := topics[topic]; !found {
				break
			}
			if time.Now().After(deadline) {
				failf("topic %s still listed 10 s after DeleteTopics", topic)
			}
			time.Sleep(200 * time.Millisecond)
		}
	} else {
		skip("delete_topic: DeleteTopics needs Version >= 0.10.1 in sarama")
	}
	setStep("done")
	finish(nil)
}

// parseVersion reads a sarama KafkaVersion, or "max" for sarama.MaxVersion.
func parseVersion(arg string) sarama.KafkaVersion {
	if arg == "max" {
		return sarama.MaxVersion
	}
	v, err := sarama.ParseKafkaVersion(arg)
	if parts := strings.Split(arg, "."); err != nil && len(parts) == 4 && parts[0] != "0" && parts[3] == "0" {
		// Kafka's own names have three parts from 1.0 on: accept "2.1.0.0" for "2.1.0".
		v, err = sarama.ParseKafkaVersion(strings.Join(parts[:3], "."))
	}
	check(err)
	return v
}

type consumed struct {
	value     string
	partition int32
	offset    int64
	count     int
}

// collector gathers records from any number of goroutines.
type collector struct {
	mu   sync.Mutex
	got  map[string]consumed
	n    int
	want int
	done chan struct{}
	once sync.Once
}

func newCollector(want int) *collector {
	return &collector{got: map[string]consumed{}, want: want, done: make(chan struct{})}
}

func (c *collector) add(m *sarama.ConsumerMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := string(m.Key)
	entry := c.got[key]
	entry.value, entry.partition, entry.offset = string(m.Value), m.Partition, m.Offset
	entry.count++
	c.got[key] = entry
	c.n++
	if c.want > 0 && c.n >= c.want {
		c.once.Do(func() { close(c.done) })
	}
}

func (c *collector) snapshot() map[string]consumed {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]consumed{}
	for k, v := range c.got {
		out[k] = v
	}
	return out
}

type handler struct {
	records *collector
	mu      sync.Mutex
	initial map[int32]int64
	setup   chan struct{}
	once    sync.Once
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error {
	h.once.Do(func() { close(h.setup) })
	return nil
}

func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	h.mu.Lock()
	h.initial[claim.Partition()] = claim.InitialOffset()
	h.mu.Unlock()
	for m := range claim.Messages() {
		h.records.add(m)
		session.MarkMessage(m, "")
	}
	return nil
}

// groupSession runs one sarama.ConsumerGroup member until it has `want` records (or, for want 0,
// for `linger` after its first session started), then closes it, which commits what it marked.
// Returns the records and the offset each partition was claimed at.
func groupSession(addrs []string, cfg *sarama.Config, group, topic string, want int, linger time.Duration) (map[string]consumed, map[int32]int64) {
	cg, err := sarama.NewConsumerGroup(addrs, group, cfg)
	check(err)
	h := &handler{records: newCollector(want), initial: map[int32]int64{}, setup: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 16)
	go func() {
		for err := range cg.Errors() {
			errs <- err
		}
	}()
	consumeDone := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil {
				consumeDone <- err
				return
			}
		}
		consumeDone <- nil
	}()
	var timeout <-chan time.Time
	if want > 0 {
		timeout = time.After(linger)
	}
	started := h.setup
	for waiting := true; waiting; {
		select {
		case <-h.records.done:
			waiting = false
		case <-started:
			started = nil
			if want == 0 {
				timeout = time.After(linger)
			}
		case <-timeout:
			if want > 0 {
				failf("consumer group read %d of %d records in %v", h.records.n, want, linger)
			}
			waiting = false
		case err := <-errs:
			failf("consumer group error: %v", err)
		case err := <-consumeDone:
			failf("Consume returned: %v", err)
		case <-time.After(20 * time.Second):
			failf("consumer group session did not start within 20 s")
		}
	}
	cancel()
	if err := <-consumeDone; err != nil {
		failf("Consume returned: %v", err)
	}
	check(cg.Close())
	select {
	case err := <-errs:
		failf("consumer group error: %v", err)
	default:
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.records.snapshot(), h.initial
}

// manualGroupSession is a group member sarama's ConsumerGroup would not be below 0.10.2: JoinGroup
// v0, SyncGroup (it leads and takes every partition), Heartbeat, OffsetFetch v1, a partition
// consumer per partition, OffsetCommit v2 with its generation, LeaveGroup.
func manualGroupSession(client sarama.Client, group, topic string, partitions []int32, want int, linger time.Duration) (map[string]consumed, map[int32]int64) {
	check(client.RefreshCoordinator(group))
	coordinator, err := client.Coordinator(group)
	check(err)

	join := &sarama.JoinGroupRequest{GroupId: group, SessionTimeout: 10000, ProtocolType: "consumer"}
	check(join.AddGroupProtocolMetadata("range", &sarama.ConsumerGroupMemberMetadata{Topics: []string{topic}}))
	var joined *sarama.JoinGroupResponse
	for attempt := 0; ; attempt++ {
		joined, err = coordinator.JoinGroup(join)
		check(err)
		if joined.Err == sarama.ErrNoError || attempt == 5 || joined.Err != sarama.ErrRebalanceInProgress {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if joined.Err != sarama.ErrNoError {
		failf("JoinGroup v0: %v", joined.Err)
	}
	if joined.LeaderId != joined.MemberId || joined.GroupProtocol != "range" {
		failf("JoinGroup v0: leader %q, member %q, protocol %q: want to lead with range", joined.LeaderId, joined.MemberId, joined.GroupProtocol)
	}
	members, err := joined.GetMembers()
	check(err)
	if len(members) != 1 || len(members[joined.MemberId].Topics) != 1 || members[joined.MemberId].Topics[0] != topic {
		failf("JoinGroup v0: members %+v, want only this one subscribed to %s", members, topic)
	}
	syncRequest := &sarama.SyncGroupRequest{GroupId: group, GenerationId: joined.GenerationId, MemberId: joined.MemberId}
	check(syncRequest.AddGroupAssignmentMember(joined.MemberId, &sarama.ConsumerGroupMemberAssignment{Topics: map[string][]int32{topic: partitions}}))
	synced, err := coordinator.SyncGroup(syncRequest)
	check(err)
	if synced.Err != sarama.ErrNoError {
		failf("SyncGroup v0: %v", synced.Err)
	}
	assignment, err := synced.GetMemberAssignment()
	check(err)
	if len(assignment.Topics[topic]) != len(partitions) {
		failf("SyncGroup v0: assigned %v, want %s:%v", assignment.Topics, topic, partitions)
	}
	beat, err := coordinator.Heartbeat(&sarama.HeartbeatRequest{GroupId: group, GenerationId: joined.GenerationId, MemberId: joined.MemberId})
	check(err)
	if beat.Err != sarama.ErrNoError {
		failf("Heartbeat v0: %v", beat.Err)
	}

	fetchOffsets := &sarama.OffsetFetchRequest{Version: 1, ConsumerGroup: group}
	for _, p := range partitions {
		fetchOffsets.AddPartition(topic, p)
	}
	fetched, err := coordinator.FetchOffset(fetchOffsets)
	check(err)
	initial := map[int32]int64{}
	for _, p := range partitions {
		block := fetched.GetBlock(topic, p)
		if block == nil || block.Err != sarama.ErrNoError {
			failf("OffsetFetch v1: partition %d: %+v", p, block)
		}
		initial[p] = block.Offset
	}

	consumer, err := sarama.NewConsumerFromClient(client)
	check(err)
	records := newCollector(want)
	next := map[int32]int64{}
	var nextMu sync.Mutex
	var wg sync.WaitGroup
	var pcs []sarama.PartitionConsumer
	for _, p := range partitions {
		start := initial[p]
		if start < 0 {
			start = sarama.OffsetOldest
		}
		pc, err := consumer.ConsumePartition(topic, p, start)
		check(err)
		pcs = append(pcs, pc)
		wg.Add(2)
		go func(p int32, pc sarama.PartitionConsumer) {
			defer wg.Done()
			for m := range pc.Messages() {
				records.add(m)
				nextMu.Lock()
				next[p] = m.Offset + 1
				nextMu.Unlock()
			}
		}(p, pc)
		go func(pc sarama.PartitionConsumer) {
			defer wg.Done()
			for err := range pc.Errors() {
				failf("partition consumer: %v", err)
			}
		}(pc)
	}
	if want > 0 {
		select {
		case <-records.done:
		case <-time.After(linger):
			failf("read %d of %d records in %v", records.n, want, linger)
		}
	} else {
		time.Sleep(linger)
	}
	for _, pc := range pcs {
		pc.AsyncClose()
	}
	wg.Wait()
	check(consumer.Close())

	nextMu.Lock()
	commit := &sarama.OffsetCommitRequest{
		Version:                 2,
		ConsumerGroup:           group,
		ConsumerGroupGeneration: joined.GenerationId,
		ConsumerID:              joined.MemberId,
		RetentionTime:           -1,
	}
	for p, o := range next {
		commit.AddBlock(topic, p, o, 0, "")
	}
	nextMu.Unlock()
	if len(next) > 0 {
		committed, err := coordinator.CommitOffset(commit)
		check(err)
		for _, p := range partitions {
			if _, found := next[p]; !found {
				continue
			}
			if kerr, found := committed.Errors[topic][p]; !found || kerr != sarama.ErrNoError {
				failf("OffsetCommit v2: partition %d: %v (in response: %v)", p, kerr, found)
			}
		}
	}
	left, err := coordinator.LeaveGroup(&sarama.LeaveGroupRequest{GroupId: group, MemberId: joined.MemberId})
	check(err)
	if left.Err != sarama.ErrNoError {
		failf("LeaveGroup v0: %v", left.Err)
	}
	return records.snapshot(), initial
}

// scramClient is the SCRAM exchange (RFC 5802) sarama 1.22 leaves to its user: client-first,
// client-final with the proof, then the server's signature checked. Written here from the RFC, as
// a service would plug in its SCRAM library.
type scramClient struct {
	hash            func() hash.Hash
	user, password  string
	nonce, bare     string
	serverSignature []byte
	step            int
}

func (c *scramClient) Begin(user, password, authzID string) error {
	nonce := make([]byte, 18)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	c.user, c.password, c.nonce = user, password, base64.StdEncoding.EncodeToString(nonce)
	return nil
}

func (c *scramClient) mac(key []byte, message string) []byte {
	m := hmac.New(c.hash, key)
	m.Write([]byte(message))
	return m.Sum(nil)
}

func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	switch c.step {
	case 1:
		name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(c.user)
		c.bare = "n=" + name + ",r=" + c.nonce
		return "n,," + c.bare, nil
	case 2:
		fields := map[string]string{}
		for _, part := range strings.Split(challenge, ",") {
			if len(part) > 2 && part[1] == '=' {
				fields[part[:1]] = part[2:]
			}
		}
		salt, err := base64.StdEncoding.DecodeString(fields["s"])
		iterations, convErr := strconv.Atoi(fields["i"])
		if err != nil || convErr != nil || !strings.HasPrefix(fields["r"], c.nonce) {
			return "", fmt.Errorf("bad server-first message %q", challenge)
		}
		// PBKDF2 with one block: the key is as long as the hash.
		u := c.mac([]byte(c.password), string(append(append([]byte{}, salt...), 0, 0, 0, 1)))
		salted := append([]byte{}, u...)
		for i := 1; i < iterations; i++ {
			u = c.mac([]byte(c.password), string(u))
			for j := range salted {
				salted[j] ^= u[j]
			}
		}
		clientKey := c.mac(salted, "Client Key")
		stored := c.hash()
		stored.Write(clientKey)
		withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte("n,,")) + ",r=" + fields["r"]
		authMessage := c.bare + "," + challenge + "," + withoutProof
		signature := c.mac(stored.Sum(nil), authMessage)
		proof := make([]byte, len(clientKey))
		for i := range proof {
			proof[i] = clientKey[i] ^ signature[i]
		}
		c.serverSignature = c.mac(c.mac(salted, "Server Key"), authMessage)
		return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
	default:
		if !strings.HasPrefix(challenge, "v=") {
			return "", fmt.Errorf("server-final message %q", challenge)
		}
		signature, err := base64.StdEncoding.DecodeString(challenge[2:])
		if err != nil || !hmac.Equal(signature, c.serverSignature) {
			return "", fmt.Errorf("the server's signature does not match")
		}
		return "", nil
	}
}

func (c *scramClient) Done() bool { return c.step >= 3 }
