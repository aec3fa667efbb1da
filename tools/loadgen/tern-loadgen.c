/*
 * tern-loadgen: a librdkafka load generator for ternd (issue 4, Performance).
 *
 *   tern-loadgen produce -b HOST:PORT -t TOPIC [-p PART] [-n N] [-s BYTES] [-a ACKS]
 *                        [-l LINGER_MS] [-B BATCH_BYTES] [-z none|gzip|snappy|lz4|zstd]
 *                        [-r RECORDS_PER_S] [-X key=value]... [-L LABEL]
 *   tern-loadgen consume -b HOST:PORT -t TOPIC [-p PART] [-n N] [-o OFFSET] [-X key=value]... [-L LABEL]
 *   tern-loadgen ready   -P PORT [-H HOST] [-T TIMEOUT_MS] [-i POLL_US] -- COMMAND [ARGS...]
 *
 * produce: N records of BYTES bytes (no key) to one partition. The first 8 bytes of each value are
 *   the send time (CLOCK_MONOTONIC, ns); the delivery report's time minus it is the delivery latency.
 *   Throughput is N / (time of the last delivery report - time of the first send). -r paces sends
 *   (latency at a fixed rate instead of under saturation).
 * consume: reads N records from OFFSET (default 0) of one partition in assign mode (no group),
 *   throughput is N / (time of the N-th record - time of assign).
 * ready: fork+exec COMMAND, poll connect() to HOST:PORT in a tight loop (or every -i MICROSECONDS),
 *   print the time from just before exec to the first accepted connection, then SIGTERM the child
 *   and reap it.
 *
 * Each run prints a human line on stderr and one JSON line on stdout. Exit status 0 only when all
 * N records were delivered (produce) or read (consume) without error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU seconds (user + system) this process used so far: the client shares the machine's cores. */
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "tern-loadgen: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

struct options {
    const char *brokers, *topic, *compression, *label, *host;
    int partition, acks, linger_ms, batch_bytes, port, timeout_ms, poll_us;
    long long count, offset;
    int size;
    double rate;
    int nextra;
    const char *extra[64];
};

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "tern-loadgen: %s=%s: %s\n", key, value, err);
        exit(2);
    }
}

static void apply_extra(rd_kafka_conf_t *conf, const struct options *o) {
    for (int i = 0; i < o->nextra; i++) {
        char *kv = strdup(o->extra[i]);
        char *eq = strchr(kv, '=');
        if (!eq) die("-X %s: expected key=value", o->extra[i]);
        *eq = '\0';
        set(conf, kv, eq + 1);
        free(kv);
    }
}

static int debug_logging; /* -X debug=... given: print librdkafka's debug lines too */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (level <= 4 || debug_logging) fprintf(stderr, "%.3f librdkafka %s: %s\n", (double)now_ns() / 1e9, fac, buf);
}

/* ---------------------------------------------------------------- produce */

struct produce_state {
    uint64_t *latencies; /* ns, one per delivered record */
    long long delivered, failed;
    uint64_t last_dr_ns;
    rd_kafka_resp_err_t first_error;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    struct produce_state *st = opaque;
    uint64_t t = now_ns();
    if (m->err) {
        if (!st->failed) st->first_error = m->err;
        st->failed++;
        return;
    }
    uint64_t sent;
    memcpy(&sent, m->payload, sizeof sent);
    st->latencies[st->delivered++] = t - sent;
    st->last_dr_ns = t;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *sorted, long long n, double p) {
    if (n == 0) return -1;
    long long i = (long long)(p * (double)n + 0.5) - 1; /* nearest rank */
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return (double)sorted[i] / 1e6;
}

static int run_produce(struct options *o) {
    char err[512], buf[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    struct produce_state st = {0};
    st.latencies = malloc(sizeof(uint64_t) * (size_t)o->count);
    if (!st.latencies) die("out of memory for %s latencies", "N");

    set(conf, "bootstrap.servers", o->brokers);
    snprintf(buf, sizeof buf, "%d", o->acks);
    set(conf, "acks", buf);
    snprintf(buf, sizeof buf, "%d", o->linger_ms);
    set(conf, "linger.ms", buf);
    snprintf(buf, sizeof buf, "%d", o->batch_bytes);
    set(conf, "batch.size", buf);
    set(conf, "batch.num.messages", "10000");
    set(conf, "queue.buffering.max.messages", "2000000");
    set(conf, "queue.buffering.max.kbytes", "2097151");
    set(conf, "message.max.bytes", "10000000");
    set(conf, "compression.codec", o->compression);
    set(conf, "enable.idempotence", "false");
    set(conf, "message.timeout.ms", "120000");
    apply_extra(conf, o);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_opaque(conf, &st);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die("rd_kafka_new: %s", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);

    /* Create the topic (Metadata auto-create) and connect before the clock starts. */
    const struct rd_kafka_metadata *md = NULL;
    int have_partition = 0;
    for (int attempt = 0; attempt < 50 && !have_partition; attempt++) {
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == 0 && md->topics[0].partition_cnt > o->partition)
                have_partition = 1;
            rd_kafka_metadata_destroy(md);
        }
        if (!have_partition) usleep(100000);
    }
    if (!have_partition) die("topic %s has no such partition", o->topic);

    char *value = calloc(1, (size_t)(o->size < 8 ? 8 : o->size));
    double cpu0 = cpu_seconds();
    for (int i = 8; i < o->size; i++) value[i] = (char)('a' + i % 26);
    uint64_t start = now_ns();
    double interval_ns = o->rate > 0 ? 1e9 / o->rate : 0;
    for (long long i = 0; i < o->count; i++) {
        if (interval_ns > 0) {
            uint64_t due = start + (uint64_t)(interval_ns * (double)i);
            while (now_ns() < due) rd_kafka_poll(rk, 0);
        }
        uint64_t t = now_ns();
        memcpy(value, &t, sizeof t);
        while (rd_kafka_produce(rkt, o->partition, RD_KAFKA_MSG_F_COPY, value, (size_t)o->size, NULL, 0,
                                NULL) == -1) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce: %s", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 1);
            t = now_ns(); /* the record is sent when librdkafka takes it */
            memcpy(value, &t, sizeof t);
        }
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    while (st.delivered + st.failed < o->count) rd_kafka_poll(rk, 10);
    double secs = (double)(st.last_dr_ns - start) / 1e9;
    double cpu = cpu_seconds() - cpu0; /* before the sort below */
    rd_kafka_flush(rk, 10000);

    qsort(st.latencies, (size_t)st.delivered, sizeof(uint64_t), cmp_u64);
    double p50 = pct_ms(st.latencies, st.delivered, 0.50), p99 = pct_ms(st.latencies, st.delivered, 0.99),
           p999 = pct_ms(st.latencies, st.delivered, 0.999),
           max = st.delivered ? (double)st.latencies[st.delivered - 1] / 1e6 : -1;
    double rps = (double)st.delivered / secs, mbps = rps * o->size / 1e6;

    fprintf(stderr,
            "produce %s: %lld x %d B acks=%d linger=%d ms batch=%d B %s: %.3f s, %.0f records/s, %.1f MB/s, "
            "latency ms p50 %.2f p99 %.2f p99.9 %.2f max %.2f, failed %lld%s%s\n",
            o->label, st.delivered, o->size, o->acks, o->linger_ms, o->batch_bytes, o->compression, secs, rps,
            mbps, p50, p99, p999, max, st.failed, st.failed ? ": " : "",
            st.failed ? rd_kafka_err2str(st.first_error) : "");
    printf("{\"mode\":\"produce\",\"label\":\"%s\",\"topic\":\"%s\",\"partition\":%d,\"records\":%lld,"
           "\"record_bytes\":%d,\"acks\":%d,\"linger_ms\":%d,\"batch_bytes\":%d,\"compression\":\"%s\","
           "\"target_rate\":%.0f,\"seconds\":%.6f,\"records_per_s\":%.1f,\"mb_per_s\":%.3f,"
           "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},\"failed\":%lld,"
           "\"client_cpu_s\":%.3f}\n",
           o->label, o->topic, o->partition, st.delivered, o->size, o->acks, o->linger_ms, o->batch_bytes,
           o->compression, o->rate, secs, rps, mbps, p50, p99, p999, max, st.failed, cpu);
    fflush(stdout);

    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(value);
    free(st.latencies);
    return st.failed || st.delivered != o->count;
}

/* ---------------------------------------------------------------- consume */

static int run_consume(struct options *o) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o->brokers);
    /* assign() needs a consumer group handle in librdkafka; no subscribe, no commits, so the group
     * is only looked up (FindCoordinator), never joined. */
    set(conf, "group.id", "tern-loadgen");
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "enable.partition.eof", "false");
    set(conf, "fetch.max.bytes", "52428800");
    set(conf, "fetch.message.max.bytes", "10485760");
    set(conf, "receive.message.max.bytes", "104857600");
    set(conf, "queued.min.messages", "2000000");
    set(conf, "queued.max.messages.kbytes", "2097151");
    set(conf, "fetch.wait.max.ms", "100");
    set(conf, "check.crcs", "false");
    apply_extra(conf, o);
    rd_kafka_conf_set_log_cb(conf, log_cb);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) die("rd_kafka_new: %s", err);
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    if (!queue) die("%s", "no consumer queue");

    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, o->topic, o->partition)->offset = o->offset;
    double cpu0 = cpu_seconds();
    uint64_t start = now_ns(), end = start;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
    if (e) die("assign: %s", rd_kafka_err2str(e));

    long long got = 0, errors = 0, bytes = 0, wrong_size = 0;
    uint64_t first = 0; /* time the first record arrived: connection, metadata and first fetch */
    rd_kafka_message_t *msgs[10000];
    /* 300 s, or -T TIMEOUT_MS when longer (a consumer reading along a long paced producer). */
    uint64_t limit_ms = o->timeout_ms > 300000 ? (uint64_t)o->timeout_ms : 300000ull;
    uint64_t deadline = start + limit_ms * 1000000ull;
    while (got < o->count && now_ns() < deadline) {
        /* consume_batch_queue waits until the array is full (or the timeout): never ask for more
         * than what is left, or the last call would sit out its timeout. */
        long long want = o->count - got < 10000 ? o->count - got : 10000;
        ssize_t n = rd_kafka_consume_batch_queue(queue, 100, msgs, (size_t)want);
        for (ssize_t i = 0; i < n; i++) {
            if (msgs[i]->err) {
                if (errors++ < 5) fprintf(stderr, "consume error: %s\n", rd_kafka_message_errstr(msgs[i]));
            } else if (got < o->count) {
                got++;
                bytes += (long long)msgs[i]->len;
                if ((int)msgs[i]->len != o->size && o->size > 0) wrong_size++;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
        if (n > 0) end = now_ns();
        if (got > 0 && !first) first = end;
    }
    double secs = (double)(end - start) / 1e9;
    double rps = (double)got / secs, mbps = (double)bytes / secs / 1e6;
    double first_ms = first ? (double)(first - start) / 1e6 : -1;
    fprintf(stderr, "consume %s: %lld records, %lld B, %.3f s, %.0f records/s, %.1f MB/s, first record after %.1f ms, "
            "errors %lld%s\n", o->label, got, bytes, secs, rps, mbps, first_ms, errors,
            wrong_size ? " (records of unexpected size)" : "");
    printf("{\"mode\":\"consume\",\"label\":\"%s\",\"topic\":\"%s\",\"partition\":%d,\"records\":%lld,"
           "\"bytes\":%lld,\"seconds\":%.6f,\"records_per_s\":%.1f,\"mb_per_s\":%.3f,\"errors\":%lld,"
           "\"wrong_size\":%lld,\"first_record_ms\":%.3f,\"client_cpu_s\":%.3f}\n",
           o->label, o->topic, o->partition, got, bytes, secs, rps, mbps, errors, wrong_size, first_ms,
           cpu_seconds() - cpu0);
    fflush(stdout);

    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got != o->count || wrong_size;
}

/* ---------------------------------------------------------------- ready */

static int run_ready(struct options *o, char **argv) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1) die("bad host %s", o->host);
    int fd0 = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd0, (struct sockaddr *)&addr, sizeof addr) == 0) die("port of %s already accepts connections", o->host);
    close(fd0);

    uint64_t start = now_ns();
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    uint64_t deadline = start + (uint64_t)o->timeout_ms * 1000000ull, ready = 0;
    long attempts = 0;
    int status;
    while (!ready && now_ns() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        attempts++;
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) ready = now_ns();
        close(fd);
        if (!ready && o->poll_us > 0) usleep((useconds_t)o->poll_us);
        if (!ready && waitpid(pid, &status, WNOHANG) == pid) die("%s exited before accepting connections", argv[0]);
    }
    /* Stop the child: SIGTERM, repeated every 100 ms (a broker that has just started may not
     * handle the first one yet), SIGKILL after 10 s. */
    int sigterms = 0, killed = 0;
    for (int waited_ms = 0; waitpid(pid, &status, WNOHANG) != pid; waited_ms++) {
        if (waited_ms % 100 == 0) {
            if (waited_ms >= 10000) {
                kill(pid, SIGKILL);
                killed = 1;
                waitpid(pid, &status, 0);
                break;
            }
            kill(pid, SIGTERM);
            sigterms++;
        }
        usleep(1000);
    }
    if (!ready) die("%s: not ready in time", argv[0]);
    double ms = (double)(ready - start) / 1e6;
    fprintf(stderr, "ready %s: %.2f ms (%ld connect attempts)\n", o->label, ms, attempts);
    if (sigterms > 1 || killed)
        fprintf(stderr, "ready %s: the child needed %d SIGTERMs%s to stop\n", o->label, sigterms,
                killed ? " and a SIGKILL" : "");
    printf("{\"mode\":\"ready\",\"label\":\"%s\",\"ready_ms\":%.3f,\"attempts\":%ld,\"poll_us\":%d,"
           "\"sigterms\":%d,\"sigkill\":%d}\n",
           o->label, ms, attempts, o->poll_us, sigterms, killed);
    return 0;
}

static void usage(void) {
    fputs("usage: tern-loadgen produce|consume -b HOST:PORT -t TOPIC [-p PART] [-n N] [-s BYTES] [-a ACKS]\n"
          "           [-l LINGER_MS] [-B BATCH_BYTES] [-z CODEC] [-r RATE] [-o OFFSET] [-X k=v]... [-L LABEL]\n"
          "       tern-loadgen ready -P PORT [-H HOST] [-T TIMEOUT_MS] [-i POLL_US] -- COMMAND [ARGS...]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    const char *mode = argv[1];
    struct options o = {.brokers = "127.0.0.1:9092", .topic = "bench", .compression = "none", .label = "",
                        .host = "127.0.0.1", .partition = 0, .acks = 1, .linger_ms = 5, .batch_bytes = 1000000,
                        .count = 1000000, .offset = 0, .size = 100, .timeout_ms = 10000};
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "+b:t:p:n:s:a:l:B:z:r:o:X:L:P:H:T:i:")) != -1) {
        switch (c) {
        case 'b': o.brokers = optarg; break;
        case 't': o.topic = optarg; break;
        case 'p': o.partition = atoi(optarg); break;
        case 'n': o.count = atoll(optarg); break;
        case 's': o.size = atoi(optarg); break;
        case 'a': o.acks = atoi(optarg); break;
        case 'l': o.linger_ms = atoi(optarg); break;
        case 'B': o.batch_bytes = atoi(optarg); break;
        case 'z': o.compression = optarg; break;
        case 'r': o.rate = atof(optarg); break;
        case 'o': o.offset = atoll(optarg); break;
        case 'X':
            if (o.nextra == 64) die("%s", "too many -X");
            o.extra[o.nextra++] = optarg;
            if (!strncmp(optarg, "debug=", 6)) debug_logging = 1;
            break;
        case 'L': o.label = optarg; break;
        case 'P': o.port = atoi(optarg); break;
        case 'H': o.host = optarg; break;
        case 'T': o.timeout_ms = atoi(optarg); break;
        case 'i': o.poll_us = atoi(optarg); break;
        default: usage();
        }
    }
    if (!strcmp(mode, "produce")) {
        if (o.size < 8) die("%s", "-s must be at least 8 (the send timestamp)");
        return run_produce(&o);
    }
    if (!strcmp(mode, "consume")) return run_consume(&o);
    if (!strcmp(mode, "ready")) {
        if (!o.port || optind >= argc) usage();
        return run_ready(&o, argv + optind);
    }
    usage();
}
