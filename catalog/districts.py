"""Kunming's 14 county-level divisions with their GB/T 2260 codes."""

from typing import NamedTuple


class DistrictInfo(NamedTuple):
    code: str
    name: str
    kind: str  # district 区, county 县, autonomous_county 自治县, city 县级市


KUNMING_DISTRICTS: tuple[DistrictInfo, ...] = (
    DistrictInfo("530102", "五华区", "district"),
    DistrictInfo("530103", "盘龙区", "district"),
    DistrictInfo("530111", "官渡区", "district"),
    DistrictInfo("530112", "西山区", "district"),
    DistrictInfo("530113", "东川区", "district"),
    DistrictInfo("530114", "呈贡区", "district"),
    DistrictInfo("530115", "晋宁区", "district"),
    DistrictInfo("530124", "富民县", "county"),
    DistrictInfo("530125", "宜良县", "county"),
    DistrictInfo("530126", "石林彝族自治县", "autonomous_county"),
    DistrictInfo("530127", "嵩明县", "county"),
    DistrictInfo("530128", "禄劝彝族苗族自治县", "autonomous_county"),
    DistrictInfo("530129", "寻甸回族彝族自治县", "autonomous_county"),
    DistrictInfo("530181", "安宁市", "city"),
)

DISTRICT_NAMES: dict[str, str] = {d.code: d.name for d in KUNMING_DISTRICTS}
