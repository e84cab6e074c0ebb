"""The line departments a county-level city routes cases to (synthetic contact data)."""

from __future__ import annotations

#: (code, name)
LINE_DEPARTMENTS: list[tuple[str, str]] = [
    ("urban-management", "城市管理和综合执法局"),
    ("water", "自来水公司"),
    ("power", "供电公司"),
    ("gas", "燃气公司"),
    ("civil-affairs", "民政局"),
    ("health", "卫生健康局"),
    ("disabled-federation", "残疾人联合会"),
    ("human-resources", "人力资源和社会保障局"),
    ("public-security", "公安局"),
    ("housing", "住房和城乡建设局"),
    ("natural-resources", "自然资源局"),
    ("ecology-environment", "生态环境分局"),
    ("letters-visits", "信访局"),
    ("transport", "交通运输局"),
    ("emergency", "应急管理局"),
    ("market-regulation", "市场监督管理局"),
    # the service hall's other departments (services: the 664 items)
    ("medical-insurance", "医疗保障局"),
    ("veterans", "退役军人事务局"),
    ("education", "教育局"),
    ("agriculture", "农业农村局"),
    ("tax", "税务局"),
    ("justice", "司法局"),
]

#: (code, name) of the external systems a case can be transferred to: departments of kind
#: `external` serving the city, each with a service user that calls the API with a token
EXTERNAL_SYSTEMS: list[tuple[str, str]] = [
    ("hotline_12345", "12345市民服务热线"),
    ("city_management", "数字城管系统"),
]
