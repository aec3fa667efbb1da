import TernVersion

/// `tern -h`: kcat 1.7.1's usage, reworded for Tern, with Tern's additions.
enum Usage {
    static let version = "tern \(TernVersion.text), kcat 1.7.1 compatible\n"

    static let text = #"""
        Usage: tern <options> [file1 file2 .. | topic1 topic2 ..]
               tern <subcommand> ...
        tern - kcat-compatible producer, consumer, admin and benchmarks for Tern and Kafka brokers

        General options:
          -C | -P | -L | -Q  Mode: Consume, Produce, Metadata List, Query mode
          -G <group-id>      Mode: group consumer (balanced consumer groups) of the topics given
          -t <topic>         Topic to consume from, produce to, or list
          -p <partition>     Partition
          -b <brokers,..>    Bootstrap broker(s) (host[:port]); default: $TERN_BROKERS
          -D <delim>         Message delimiter string: a-z | \r | \n | \t | \xNN .. (default: \n)
          -K <delim>         Key delimiter (same format as -D)
          -c <cnt>           Limit message count
          -m <seconds>       How long to wait for the cluster (metadata, connections); default: 5 seconds
          -F <config-file>   Read configuration properties from a file of "property=value" lines.
                             Without -F: $KCAT_CONFIG names the file, else $HOME/.config/tern.conf is read.
                             If that does not exist, $HOME/.config/kcat.conf is read. -F none reads no file.
          -X list            List the configuration properties tern knows
          -X prop=val        Set a configuration property (kcat's names; a "topic." prefix is accepted)
          -X dump            Dump the configuration and exit
          -d <dbg1,...>      Log each request (API, version) and each response's error codes on stderr.
                             Any context (all, protocol, broker, ...) turns on all of Tern's debug log.
          -q                 Be quiet (verbosity set to 0)
          -v                 Increase verbosity
          -E                 Do not exit on non-fatal error
          -V | --version     Print the version and the git commit it was built from
          -h | --help        Print usage help

        Producer options:
          -z snappy|gzip|lz4|zstd Message compression (default: none)
          -p -1              Let the partitioner pick the partition (the default)
          -X partitioner=<p> How keys map to partitions, as in kcat (default: consistent_random).
                             Or: consistent, murmur2, murmur2_random (Java's), fnv1a, fnv1a_random, random
          -D <delim>         Delimiter to split input into messages
          -K <delim>         Delimiter to split input key and message
          -k <str>           Use a fixed key for all messages; with -K, a message's own key wins
          -H <header=value>  Add a message header (may be given more than once)
          -l                 Send messages from a file split at the delimiter, as with stdin (one file only)
          -T                 Output sent messages to stdout, acting like tee
          -c <cnt>           Exit after producing this number of messages
          -Z                 Send empty messages and keys as NULL
          file1 file2..      Read messages from files, each whole file one message (with -l: see above)
          -J                 (Tern) Each input message is a JSON envelope as written by -C -J.
                             Its key, payload, headers, partition and ts are used.

        Consumer options:
          -o <offset>        Offset to start consuming from:
                             beginning | end | stored |
                             <value>  (absolute offset) |
                             -<value> (relative offset from end)
                             s@<value> (timestamp in ms to start at)
                             e@<value> (timestamp in ms to stop at (not included))
          -e                 Exit successfully when the last message is received
          -f <fmt..>         Output formatting string, see below; takes precedence over -D and -K
          -J                 Output with JSON envelope
          -s key=<serdes>    Deserialize non-NULL keys using <serdes>
          -s value=<serdes>  Deserialize non-NULL values using <serdes>
          -s <serdes>        Deserialize non-NULL keys and values using <serdes>
                             Available deserializers (<serdes>):
                               <pack-str> - A combination of:
                                            <: little-endian,
                                            >: big-endian (recommended),
                                            b: signed 8-bit integer
                                            B: unsigned 8-bit integer
                                            h: signed 16-bit integer
                                            H: unsigned 16-bit integer
                                            i: signed 32-bit integer
                                            I: unsigned 32-bit integer
                                            q: signed 64-bit integer
                                            Q: unsigned 64-bit integer
                                            c: ASCII character
                                            s: remaining data is string
                                            $: match end-of-input (no bytes may remain).
                                               Without it, data after the pack-str is skipped.
          -D <delim>         Delimiter to separate messages on output
          -K <delim>         Print message keys, followed by this delimiter
          -O                 Print message offset using -K delimiter
          -c <cnt>           Exit after consuming this number of messages
          -Z                 Print NULL values and keys as "NULL" instead of empty (with -J, always null)
          -u                 Unbuffered output

        Metadata options (-L):
          -t <topic>         Topic to query (optional)

        Query options (-Q):
          -t <t>:<p>:<ts>    Get the offset for topic <t>, partition <p> at timestamp <ts> (ms since epoch).
                             -t may be given more than once, each partition only once.

        Format string tokens:
          %s                 Message payload
          %S                 Message payload length (or -1 for NULL)
          %R                 Message payload length (or -1 for NULL) as a big-endian 32-bit binary integer
          %k                 Message key
          %K                 Message key length (or -1 for NULL)
          %T                 Message timestamp (milliseconds since epoch UTC)
          %h                 Message headers (n=v CSV)
          %t                 Topic
          %p                 Partition
          %o                 Message offset
          %I                 (Tern) Message timestamp as ISO-8601 UTC
          \n \r \t           Newlines, tab
          \xXX \xNNN         Any ASCII character
         Example:
          -f 'Topic %t [%p] at offset %o: key %k: %s\n'

        JSON message envelope (on one line) when consuming with -J:
         { "topic": str, "partition": int, "offset": int,
           "tstype": "create|logappend|unknown", "ts": int, // timestamp in milliseconds since epoch
           "broker": int,
           "headers": [ "<name>", str|null, .. ], // optional, a flat array
           "key": str, "payload": str,
           "key_error": str, "payload_error": str // optional, when -s deserialization fails
         }

        Consumer mode (writes messages to stdout):
          tern -b <broker> -t <topic> -p <partition>
         or:
          tern -C -b ...

        Group consumer mode:
          tern -b <broker> -G <group-id> topic1 top2 ^aregex\d+

        Producer mode (reads messages from stdin):
          ... | tern -b <broker> -t <topic> -p <partition>
         or:
          tern -P -b ...

        Metadata listing:
          tern -L -b <broker> [-t <topic>]

        Query offset by timestamp:
          tern -Q -b broker -t <topic>:<partition>:<timestamp>

        Tern additions:
          --base64           With -J: key, payload and header values in base64, marked "encoding":"base64".
                             -P -J decodes them again.
          -e with -G         Exits once every assigned partition reached its end
          Interactive -P     Each line is sent as soon as it is typed

        Subcommands (tern <subcommand> --help for details):
          tern topic create|delete|list|describe|add-partitions|delete-records
          tern group list|describe|reset-offsets
          tern cluster describe
          tern bench produce|consume|e2e
          tern dump-log <file.log|file.index|file.timeindex>..
        """#
}
