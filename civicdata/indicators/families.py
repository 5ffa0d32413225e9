"""The families of bundled layers: the IoD domains and the QOF registers, read by the build and at run time."""

from __future__ import annotations

# IoD domain short names as used in layer ids -> (IoD2019 File 2 column stem, IoD2025 column stem, title)
DOMAINS: list[tuple[str, str, str, str]] = [
    ("imd", "Index of Multiple Deprivation (IMD)", "IMD", "Index of Multiple Deprivation"),
    ("income", "Income", "Income", "Income deprivation"),
    ("employment", "Employment", "Employment", "Employment deprivation"),
    ("education", "Education, Skills and Training", "Education", "Education, skills and training"),
    ("health", "Health Deprivation and Disability", "Health", "Health deprivation and disability"),
    ("crime", "Crime", "Crime", "Crime"),
    ("barriers", "Barriers to Housing and Services", "Housing_and_Services", "Barriers to housing and services"),
    ("living_environment", "Living Environment", "Environment", "Living environment"),
]


#: QOF registers bundled as prevalence layers: id part -> (group code, list QOF uses, title, list words)
QOF_REGISTERS = {
    "asthma": ("AST", "06OV", "Asthma prevalence (QOF 2022-23)", "patients aged 6 and over"),
    "depression": ("DEP", "18OV", "Depression prevalence (QOF 2022-23)", "patients aged 18 and over"),
    "smi": ("MH", "TOTAL", "Serious mental illness prevalence (QOF 2022-23)", "patients of all ages"),
    "obesity": ("OB", "18OV", "Obesity prevalence (QOF 2022-23)", "patients aged 18 and over"),
}
#: each register's name in words ("Serious mental illness"), from its title
QOF_NAMES = {key: title.split(" prevalence")[0] for key, (_, _, title, _) in QOF_REGISTERS.items()}
