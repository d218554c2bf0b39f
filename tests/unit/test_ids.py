import uuid

from gateway.domain.ids import ordered_id


def test_ordered_ids_are_uuid7_and_sort_by_creation_time():
    ids = [ordered_id() for _ in range(2000)]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(ids)) == len(ids)
    stamps = [u.int >> 80 for u in parsed]
    assert stamps == sorted(stamps)
