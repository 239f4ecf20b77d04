#!/usr/bin/python3
"""Publish one event to switchboard over ZeroMQ and see it come back on the feed.

A client in any language needs only ZeroMQ and protobuf. This one uses
Debian's python3-zmq and python3-protobuf, with code generated from
proto/switchboard.proto by `protoc --python_out` (the build does that into
<build>/python; nothing generated is committed):

    apt-get install python3-zmq python3-protobuf protobuf-compiler
    protoc --proto_path=proto --python_out=build/python proto/switchboard.proto
    /usr/bin/python3 examples/python/publish_and_subscribe.py \
        --proto-dir build/python --tenant acme-air

What it does, following README "Publishing over ZeroMQ" and "The feed":

 1. subscribes (SUB) to the notify feed (port 5556) with the topic prefix
    "<tenant>.";
 2. connects a DEALER to ingest (port 5555), sends one frame holding a
    PublishRequest with one Envelope (an interaction), and reads one
    PublishReply: one Ack per envelope, ACK_OK once the event is durable;
 3. sends the same request again: the Ack is ACK_DUPLICATE (redelivery is
    safe);
 4. waits for its own event on the feed (two frames: topic, Envelope),
    decodes it, and checks that re-encoding the decoded Envelope gives the
    received bytes back exactly.

It prints one line per step and, last, "FEED <topic> <hex of the envelope>".
Exit status 0 when every check held, 1 otherwise, 2 on bad usage.
"""

import argparse
import os
import sys
import time
import uuid


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--publish", default="tcp://127.0.0.1:5555", help="ingest's ZeroMQ endpoint")
    p.add_argument("--feed", default="tcp://127.0.0.1:5556", help="notify's PUB feed")
    p.add_argument("--tenant", default="acme-air", help="tenant id (must be configured)")
    p.add_argument("--proto-dir", default=os.environ.get("SB_PYTHON_PROTO", "build/python"),
                   help="folder holding switchboard_pb2.py (protoc --python_out)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer")
    return p.parse_args()


def fail(msg):
    print("FAIL " + msg, flush=True)
    sys.exit(1)


def make_event(pb, tenant):
    """One interaction envelope; ingest fills in key, time of ingestion, attempt."""
    env = pb.Envelope()
    env.id = "py-" + uuid.uuid4().hex
    env.source = "/examples/python"
    env.type = "com.switchboard.interaction"
    env.specversion = "1.0"
    env.tenant = tenant
    env.time_ms = int(time.time() * 1000)
    env.published_us = int(time.time() * 1_000_000)
    env.interaction.channel = pb.CHANNEL_APP
    env.interaction.customer = "python-" + uuid.uuid4().hex[:8]
    env.interaction.text = "Hello from Python: my order has not arrived"
    env.interaction.platform_message_id = env.id
    return env


def publish(pb, sock, correlation, env, timeout):
    """Sends one PublishRequest, returns the Ack of env."""
    req = pb.PublishRequest(correlation=correlation)
    req.events.append(env)
    sock.send(req.SerializeToString())
    if not sock.poll(int(timeout * 1000)):
        fail("no PublishReply within %.0f s" % timeout)
    reply = pb.PublishReply()
    reply.ParseFromString(sock.recv())
    if reply.correlation != correlation or len(reply.acks) != 1:
        fail("reply does not match the request: %s" % reply)
    ack = reply.acks[0]
    if ack.id != env.id:
        fail("ack names %r, not %r" % (ack.id, env.id))
    return ack


def await_on_feed(pb, sub, env, tenant, timeout):
    """The (topic, bytes) of env as the feed publishes it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sub.poll(int(max(0.0, deadline - time.monotonic()) * 1000)):
            break
        frames = sub.recv_multipart()
        if len(frames) != 2:
            fail("a feed message has %d frames, not 2 (topic, Envelope)" % len(frames))
        topic, data = frames[0].decode("utf-8"), frames[1]
        seen = pb.Envelope()
        seen.ParseFromString(data)
        if seen.id == env.id and seen.source == env.source:
            if not topic.startswith(tenant + "."):
                fail("topic %r is not under %r" % (topic, tenant + "."))
            return topic, data, seen
    fail("event %s not seen on the feed within %.0f s" % (env.id, timeout))


def check_feed_event(sent, seen, data):
    if seen.tenant != sent.tenant or seen.type != sent.type:
        fail("tenant or type changed on the way")
    if seen.interaction.customer != sent.interaction.customer:
        fail("customer changed on the way")
    if seen.interaction.text != sent.interaction.text:
        fail("text changed on the way (it holds no personal data to redact)")
    if not seen.key or not seen.conversation:
        fail("the bus did not set key and conversation")
    if seen.SerializeToString() != data:
        fail("re-encoding the received Envelope does not give the same bytes")


def main():
    args = parse_args()
    sys.path.insert(0, args.proto_dir)
    try:
        import zmq
        import switchboard_pb2 as pb
    except ImportError as e:
        print("SKIP %s (apt-get install python3-zmq python3-protobuf protobuf-compiler; "
              "protoc --python_out into --proto-dir)" % e, flush=True)
        return 77

    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.connect(args.feed)
    sub.setsockopt_string(zmq.SUBSCRIBE, args.tenant + ".")
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(args.publish)
    time.sleep(0.3)  # let the subscription reach the PUB socket

    env = make_event(pb, args.tenant)
    ack = publish(pb, dealer, 1, env, args.timeout)
    if ack.code != pb.ACK_OK:
        fail("first publish: %s %s" % (pb.AckCode.Name(ack.code), ack.message))
    print("ACK %s %s" % (env.id, pb.AckCode.Name(ack.code)), flush=True)

    ack = publish(pb, dealer, 2, env, args.timeout)
    if ack.code != pb.ACK_DUPLICATE:
        fail("re-send: %s, want ACK_DUPLICATE" % pb.AckCode.Name(ack.code))
    print("ACK %s %s" % (env.id, pb.AckCode.Name(ack.code)), flush=True)

    topic, data, seen = await_on_feed(pb, sub, env, args.tenant, args.timeout)
    check_feed_event(env, seen, data)
    print("FEED %s %s" % (topic, data.hex()), flush=True)
    ctx.destroy(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
