"""Tasks held by the broker until their time (`blingsync.task_broker`): a debounced stock
evaluation is taken by a worker when due, not at the scheduler's next pass. Real time, no
timed assertion: the task is invisible before its time and handed out after it."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from blingsync.task_broker import DelayedORM, DelayedRedis, task_delay


@pytest.mark.django_db(transaction=True)
def test_the_orm_broker_hands_out_a_delayed_task_only_when_it_is_due():
    broker = DelayedORM(list_key=f"test-{uuid.uuid4().hex[:8]}")
    broker.enqueue("now")
    with task_delay(timezone.now() + timedelta(seconds=1.5)):
        broker.enqueue("later")
    assert [payload for _pk, payload in broker.dequeue()] == ["now"]
    assert broker.dequeue() is None  # "later" is not due: the broker polls and finds nothing
    time.sleep(1.6)
    assert [payload for _pk, payload in broker.dequeue()] == ["later"]


@pytest.fixture
def redis_conf(monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:6379/7")


def _redis_broker() -> DelayedRedis:
    broker = DelayedRedis(list_key=f"test-{uuid.uuid4().hex[:8]}")
    try:
        broker.connection.ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return broker


def test_the_redis_broker_hands_out_a_delayed_task_only_when_it_is_due(redis_conf):
    broker = _redis_broker()
    try:
        broker.enqueue("now")
        with task_delay(timezone.now() + timedelta(seconds=1.5)):
            broker.enqueue("later")
        assert broker.queue_size() == 1  # a task held for later is no backlog
        assert [payload for _ack, payload in broker.dequeue()] == [b"now"]
        assert broker.dequeue() is None
        time.sleep(1.6)
        assert [payload for _ack, payload in broker.dequeue()] == [b"later"]
        assert broker.queue_size() == 0
    finally:
        broker.delete_queue()
