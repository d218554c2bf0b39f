"""The provinces as a tile grid (a simple map: each province a square roughly where it lies), with their names."""

from __future__ import annotations

# code: (name, column, row)
PROVINCES: dict[str, tuple[str, int, int]] = {
    "65": ("新疆 Xinjiang", 0, 1), "15": ("内蒙古 Inner Mongolia", 4, 0), "23": ("黑龙江 Heilongjiang", 7, 0),
    "62": ("甘肃 Gansu", 2, 1), "64": ("宁夏 Ningxia", 3, 1), "14": ("山西 Shanxi", 4, 1), "11": ("北京 Beijing", 5, 1),
    "21": ("辽宁 Liaoning", 6, 1), "22": ("吉林 Jilin", 7, 1), "54": ("西藏 Tibet", 0, 2), "63": ("青海 Qinghai", 1, 2),
    "61": ("陕西 Shaanxi", 3, 2), "13": ("河北 Hebei", 4, 2), "12": ("天津 Tianjin", 5, 2), "51": ("四川 Sichuan", 2, 3),
    "50": ("重庆 Chongqing", 3, 3), "41": ("河南 Henan", 4, 3), "37": ("山东 Shandong", 5, 3),
    "53": ("云南 Yunnan", 2, 4), "52": ("贵州 Guizhou", 3, 4), "42": ("湖北 Hubei", 4, 4), "34": ("安徽 Anhui", 5, 4),
    "32": ("江苏 Jiangsu", 6, 4), "45": ("广西 Guangxi", 3, 5), "43": ("湖南 Hunan", 4, 5), "36": ("江西 Jiangxi", 5, 5),
    "33": ("浙江 Zhejiang", 6, 5), "31": ("上海 Shanghai", 7, 5), "46": ("海南 Hainan", 3, 6),
    "44": ("广东 Guangdong", 4, 6), "35": ("福建 Fujian", 5, 6), "71": ("台湾 Taiwan", 6, 6),
    "82": ("澳门 Macao", 3, 7), "81": ("香港 Hong Kong", 4, 7),
}


def province_name(code: str) -> str:
    return PROVINCES.get(code, (code, 0, 0))[0]
