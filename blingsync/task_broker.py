"""django-q brokers that can hold a task until a time: "run this in 30 s" without a schedule.

django-q's one-off schedules are looked at by the cluster's scheduler about every 30 s, so a
task due in 30 s ran 30 to 60 s later. These brokers (Q_CLUSTER["broker_class"]) keep a task
queued with `task_delay(until)` away from the workers until `until`, and the workers take it
then, within the broker's own polling:
- `DelayedORM`: the task row is stored with its `lock` at `until`; the ORM broker only hands
  out rows whose lock has passed, so the query it makes every `poll` anyway finds it when due.
  No work of its own.
- `DelayedRedis`: the task waits in a sorted set scored by `until`; the pusher moves what is
  due to the queue before each blocking pop (one ZRANGEBYSCORE a second while idle, in memory),
  and the pop's timeout never runs past the next due task.
Without `task_delay` both are django-q's brokers unchanged. A held task is not in the queue's
size (`queue_size`, the backlog /health/ shows) until it is due, with either broker.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

_until: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "blingsync_task_until", default=None
)


@contextmanager
def task_delay(until: datetime) -> Iterator[None]:
    """Tasks queued inside the block (`async_task`) are held until `until`."""
    token = _until.set(until)
    try:
        yield
    finally:
        _until.reset(token)


def broker_delays() -> bool:
    """Whether the configured broker honours `task_delay` (not in the tests' inline mode)."""
    broker_class = Conf.BROKER_CLASS or ""
    return broker_class.startswith(f"{__name__}.") and not Conf.SYNC


class DelayedORM(ORM):
    def enqueue(self, task: str) -> int:
        until = _until.get()
        if until is None:
            return super().enqueue(task)
        package = self.get_connection().create(
            key=self.list_key or Conf.CLUSTER_NAME, payload=task, lock=max(until, timezone.now())
        )
        return int(package.pk)


class DelayedRedis(Redis):
    MOVE_BATCH = 100

    @property
    def delayed_key(self) -> str:
        return f"{self.list_key}:delayed"

    def enqueue(self, task: str) -> int:
        until = _until.get()
        if until is None:
            return int(super().enqueue(task))
        return int(self.connection.zadd(self.delayed_key, {task: until.timestamp()}))

    def _due_moved(self) -> float:
        """Move the due tasks to the queue (ZREM decides between two clusters); returns the
        seconds until the next delayed task (1 when none)."""
        now = time.time()
        for task in self.connection.zrangebyscore(
            self.delayed_key, 0, now, start=0, num=self.MOVE_BATCH
        ):
            if self.connection.zrem(self.delayed_key, task):
                self.connection.rpush(self.list_key, task)
        following = self.connection.zrange(self.delayed_key, 0, 0, withscores=True)
        if not following:
            return 1.0
        return min(max(following[0][1] - now, 0.05), 1.0)

    def dequeue(self) -> list[tuple[None, bytes]] | None:
        wait = self._due_moved()
        task = self.connection.blpop(self.list_key, max(wait, 0.05))
        if task:
            return [(None, task[1])]
        return None

    def delete_queue(self) -> int:
        self.connection.delete(self.delayed_key)
        return int(super().delete_queue())
