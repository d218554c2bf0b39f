"""The deterministic sample world: pooling regions of seven provinces and
their members, for development, the README walk-through and the tests.

ID numbers are synthetic but well formed (valid check character); they are
derived from a fixed seed, so every machine gets the same sample.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from gateway.domain.identity import check_character
from gateway.domain.members import EnrolmentStatus, InsuranceType


@dataclass(frozen=True)
class Region:
    admdvs: str
    name: str


REGIONS = (
    Region("110000", "Beijing 北京市"),
    Region("130200", "Tangshan 唐山市, Hebei"),
    Region("130500", "Xingtai 邢台市, Hebei"),
    Region("310000", "Shanghai 上海市"),
    Region("320100", "Nanjing 南京市, Jiangsu"),
    Region("320300", "Xuzhou 徐州市, Jiangsu"),
    Region("420100", "Wuhan 武汉市, Hubei"),
    Region("421000", "Jingzhou 荆州市, Hubei"),
    Region("440100", "Guangzhou 广州市, Guangdong"),
    Region("445300", "Yunfu 云浮市, Guangdong"),
    Region("450100", "Nanning 南宁市, Guangxi"),
    Region("450200", "Liuzhou 柳州市, Guangxi"),
)
OPERATORS = ("ops", "ops2")  # two, so that a four-eyes approval by a second operator can be tried
MEMBERS_PER_REGION = 40


@dataclass(frozen=True)
class SampleMember:
    region: str
    psn_no: str
    id_number: str
    insurance_type: InsuranceType
    status: EnrolmentStatus


def id_number(area: str, born: date, sequence: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_character(first17)


def members_of(region: str) -> list[SampleMember]:
    """Members 1-4 of every region are fixed (README): employee normal, employee
    lapsed, resident normal, employee terminated; the rest are drawn at random
    from a seed of the region code."""
    rng = random.Random(f"copay-sample-{region}")
    fixed = [(InsuranceType.EMPLOYEE, EnrolmentStatus.NORMAL), (InsuranceType.EMPLOYEE, EnrolmentStatus.LAPSED),
             (InsuranceType.RESIDENT, EnrolmentStatus.NORMAL), (InsuranceType.EMPLOYEE, EnrolmentStatus.TERMINATED)]
    out = []
    for i in range(MEMBERS_PER_REGION):
        kind, status = fixed[i] if i < len(fixed) else (
            rng.choice([InsuranceType.EMPLOYEE] * 3 + [InsuranceType.RESIDENT] * 2),
            rng.choice([EnrolmentStatus.NORMAL] * 8 + [EnrolmentStatus.LAPSED, EnrolmentStatus.TERMINATED]))
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
        out.append(SampleMember(region, f"{region}{i + 1:06d}", id_number(region, born, i), kind, status))
    return out
