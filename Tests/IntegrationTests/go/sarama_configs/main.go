// Topic and broker configs with sarama's ClusterAdmin (Debian's golang-github-shopify-sarama-dev,
// 1.22): AlterConfig (AlterConfigs v0, which replaces a resource's whole override set) and
// DescribeConfig (DescribeConfigs v0), the refusals, and a lowered max.message.bytes refusing a
// larger record at once.
//
//	sarama_configs BOOTSTRAP
//
// Prints one JSON line, {"ok":true,...} or {"ok":false,"step":...,"error":...}, and exits 1 on
// failure; a watchdog fails the run after 50 s.
//
// Build in GOPATH mode: GO111MODULE=off GOPATH=/usr/share/gocode go build -o sarama_configs main.go
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

var (
	step    = "start"
	summary = map[string]interface{}{"client": "sarama"}
)

func finish(err error) {
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
		finish(err)
	}
}

func failf(format string, args ...interface{}) { finish(fmt.Errorf(format, args...)) }

func str(s string) *string { return &s }

// refused checks that err is the broker's refusal and that its message names what is wrong
// (sarama 1.22 reports only the error message of an AlterConfigs result).
func refused(key string, err error, want string) {
	if err == nil {
		failf("%s: expected a refusal, got success", key)
	}
	if !strings.Contains(err.Error(), want) {
		failf("%s: expected a message containing %q, got %q", key, want, err.Error())
	}
	summary[key] = err.Error()
}

func main() {
	go func() {
		time.Sleep(50 * time.Second)
		failf("timed out")
	}()
	addrs := []string{os.Args[1]}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 0
	cfg.Producer.RequiredAcks = sarama.WaitForAll

	step = "connect"
	admin, err := sarama.NewClusterAdmin(addrs, cfg)
	check(err)
	topic := fmt.Sprintf("cfg-sarama-%d", time.Now().UnixNano())
	step = "create topic"
	check(admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false))

	describe := func(resourceType sarama.ConfigResourceType, name string) map[string]sarama.ConfigEntry {
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: resourceType, Name: name})
		check(err)
		byName := map[string]sarama.ConfigEntry{}
		for _, entry := range entries {
			byName[entry.Name] = entry
		}
		return byName
	}

	step = "alter config"
	check(admin.AlterConfig(sarama.TopicResource, topic, map[string]*string{
		"max.message.bytes": str("2000"), "retention.ms": str("3600000"),
	}, false))
	configs := describe(sarama.TopicResource, topic)
	if configs["max.message.bytes"].Value != "2000" || configs["max.message.bytes"].Default {
		failf("max.message.bytes: %+v", configs["max.message.bytes"])
	}
	if configs["retention.ms"].Value != "3600000" || !configs["segment.ms"].Default {
		failf("configs: %+v", configs)
	}

	step = "produce above the lowered max.message.bytes"
	producer, err := sarama.NewSyncProducer(addrs, cfg)
	check(err)
	_, _, err = producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(make([]byte, 5000))})
	if err != sarama.ErrMessageSizeTooLarge {
		failf("expected MESSAGE_TOO_LARGE, got %v", err)
	}
	summary["message_too_large"] = err.Error()

	step = "validate only changes nothing"
	check(admin.AlterConfig(sarama.TopicResource, topic, map[string]*string{"max.message.bytes": str("99999")}, true))
	if describe(sarama.TopicResource, topic)["max.message.bytes"].Value != "2000" {
		failf("validate_only changed the topic")
	}

	step = "alter config replaces the whole set"
	check(admin.AlterConfig(sarama.TopicResource, topic, map[string]*string{"retention.ms": str("7200000")}, false))
	configs = describe(sarama.TopicResource, topic)
	if configs["max.message.bytes"].Value != "1048588" || !configs["max.message.bytes"].Default {
		failf("max.message.bytes after replacing: %+v", configs["max.message.bytes"])
	}
	_, _, err = producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(make([]byte, 5000))})
	check(err)
	check(producer.Close())

	step = "refusals"
	refused("unknown_topic", admin.AlterConfig(sarama.TopicResource, "missing-"+topic,
		map[string]*string{"retention.ms": str("1")}, false), "missing-"+topic)
	refused("invalid_value", admin.AlterConfig(sarama.TopicResource, topic,
		map[string]*string{"retention.ms": str("soon")}, false), "retention.ms")
	refused("unknown_key", admin.AlterConfig(sarama.TopicResource, topic,
		map[string]*string{"no.such.config": str("1")}, false), "no.such.config")
	refused("static_broker_key", admin.AlterConfig(sarama.ConfigResourceType(4), "0",
		map[string]*string{"port": str("1234")}, false), "Cannot update these configs dynamically")
	if describe(sarama.TopicResource, topic)["retention.ms"].Value != "7200000" {
		failf("a refused change altered the topic")
	}

	step = "describe broker"
	broker := describe(sarama.ConfigResourceType(4), "0")
	if !broker["port"].ReadOnly || broker["log.retention.ms"].ReadOnly || broker["node.id"].Value != "0" {
		failf("broker configs: port %+v, log.retention.ms %+v, node.id %+v", broker["port"],
			broker["log.retention.ms"], broker["node.id"])
	}
	step = "alter broker config"
	check(admin.AlterConfig(sarama.ConfigResourceType(4), "0", map[string]*string{"log.segment.bytes": str("4194304")}, false))
	if describe(sarama.TopicResource, topic)["segment.bytes"].Value != "4194304" {
		failf("topic did not inherit the broker's log.segment.bytes: %+v",
			describe(sarama.TopicResource, topic)["segment.bytes"])
	}
	check(admin.Close())
	finish(nil)
}
