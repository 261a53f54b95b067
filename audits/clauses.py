"""Clause libraries for audit checklists, as data (English and Simplified Chinese titles).

Compact lists: the clause headings an internal auditor walks, not the standards' text (which is
copyrighted). A checklist is built from the clauses of one standard, optionally narrowed to chapters.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    ref: str
    en: str
    zh: str

    def title(self, language: str = "en") -> str:
        return self.zh if (language or "").lower().startswith("zh") else self.en


def _c(rows):
    return [Clause(*row) for row in rows]


ISO_9001 = _c(
    [
        ("4.1", "Understanding the organization and its context", "理解组织及其环境"),
        ("4.2", "Needs and expectations of interested parties", "理解相关方的需求和期望"),
        ("4.3", "Scope of the quality management system", "确定质量管理体系的范围"),
        ("4.4", "Quality management system and its processes", "质量管理体系及其过程"),
        ("5.1", "Leadership and commitment", "领导作用和承诺"),
        ("5.2", "Quality policy", "质量方针"),
        ("5.3", "Roles, responsibilities and authorities", "组织的岗位、职责和权限"),
        ("6.1", "Actions to address risks and opportunities", "应对风险和机遇的措施"),
        ("6.2", "Quality objectives and planning to achieve them", "质量目标及其实现的策划"),
        ("6.3", "Planning of changes", "变更的策划"),
        ("7.1.5", "Monitoring and measuring resources", "监视和测量资源"),
        ("7.2", "Competence", "能力"),
        ("7.3", "Awareness", "意识"),
        ("7.4", "Communication", "沟通"),
        ("7.5", "Documented information", "成文信息"),
        ("8.1", "Operational planning and control", "运行的策划和控制"),
        ("8.2", "Requirements for products and services", "产品和服务的要求"),
        ("8.3", "Design and development", "产品和服务的设计和开发"),
        ("8.4", "Control of externally provided processes, products and services", "外部提供的过程、产品和服务的控制"),
        ("8.5.1", "Control of production and service provision", "生产和服务提供的控制"),
        ("8.5.2", "Identification and traceability", "标识和可追溯性"),
        ("8.5.6", "Control of changes", "更改控制"),
        ("8.6", "Release of products and services", "产品和服务的放行"),
        ("8.7", "Control of nonconforming outputs", "不合格输出的控制"),
        ("9.1.2", "Customer satisfaction", "顾客满意"),
        ("9.1.3", "Analysis and evaluation", "分析与评价"),
        ("9.2", "Internal audit", "内部审核"),
        ("9.3", "Management review", "管理评审"),
        ("10.2", "Nonconformity and corrective action", "不合格和纠正措施"),
        ("10.3", "Continual improvement", "持续改进"),
    ]
)

IATF_16949 = _c(
    [
        ("4.4.1.2", "Product safety", "产品安全"),
        ("6.1.2.3", "Contingency plans", "应急计划"),
        ("7.1.5.1.1", "Measurement system analysis", "测量系统分析"),
        ("7.1.5.2.1", "Calibration / verification records", "校准/验证记录"),
        ("7.2.3", "Internal auditor competency", "内部审核员能力"),
        ("8.3.3.3", "Special characteristics", "特殊特性"),
        ("8.3.4.4", "Product approval process (PPAP)", "产品批准过程（PPAP）"),
        ("8.4.1.2", "Supplier selection process", "供应商选择过程"),
        ("8.4.2.4", "Supplier monitoring", "供应商监视"),
        ("8.5.1.1", "Control plan", "控制计划"),
        ("8.5.1.3", "Verification of job set-ups (first article)", "作业准备的验证（首件）"),
        ("8.5.6.1", "Control of changes (customer approval)", "变更控制（顾客批准）"),
        ("8.6.2", "Layout inspection and functional testing", "全尺寸检验和功能试验"),
        ("8.7.1.4", "Control of reworked product", "返工产品的控制"),
        (
            "9.1.1.1",
            "Monitoring and measurement of manufacturing processes (SPC, Cpk)",
            "制造过程的监视和测量（SPC、Cpk）",
        ),
        ("9.2.2.3", "Manufacturing process audit", "制造过程审核"),
        ("9.2.2.4", "Product audit", "产品审核"),
        ("10.2.3", "Problem solving (8D)", "问题解决（8D）"),
        ("10.2.4", "Error-proofing", "防错"),
    ]
)

GMP = _c(
    [
        ("GMP-1", "Pharmaceutical quality system", "药品质量体系"),
        ("GMP-2", "Personnel and training", "人员与培训"),
        ("GMP-3", "Premises and equipment", "厂房与设备"),
        ("GMP-4", "Documentation", "文件管理"),
        ("GMP-5", "Production", "生产管理"),
        ("GMP-6", "Quality control", "质量控制"),
        ("GMP-7", "Outsourced activities", "委托生产与委托检验"),
        ("GMP-8", "Complaints and product recall", "投诉与产品召回"),
        ("GMP-9", "Self-inspection", "自检"),
        ("GMP-A11", "Computerised systems (Annex 11)", "计算机化系统（附录11）"),
        ("GMP-A15", "Qualification and validation (Annex 15)", "确认与验证（附录15）"),
        ("GMP-DEV", "Deviation handling and change control", "偏差处理与变更控制"),
        ("GMP-BR", "Batch record review and release", "批记录审核与放行"),
    ]
)

SC = _c(
    [
        ("SC-1", "Production site and environment", "生产场所与环境"),
        ("SC-2", "Production equipment and facilities", "生产设备设施"),
        ("SC-3", "Equipment layout and process flow", "设备布局与工艺流程"),
        ("SC-4", "Personnel health and hygiene management", "人员健康与卫生管理"),
        ("SC-5", "Raw material acceptance and supplier control", "原辅料进货查验与供应商控制"),
        ("SC-6", "Production process control (HACCP, CCP)", "生产过程控制（HACCP、关键控制点）"),
        ("SC-7", "Inspection and testing of products", "产品检验"),
        ("SC-8", "Storage and transport", "贮存与运输"),
        ("SC-9", "Traceability and recall", "追溯与召回"),
        ("SC-10", "Food safety management system and records", "食品安全管理制度与记录"),
        ("SC-11", "Pest control and cleaning", "虫害控制与清洁消毒"),
    ]
)

LIBRARIES: dict[str, list[Clause]] = {
    "iso9001": ISO_9001,
    "iatf16949": IATF_16949,
    "gmp": GMP,
    "sc": SC,
}


def clauses(standard: str, chapters: list[str] | tuple[str, ...] = ()) -> list[Clause]:
    """The clauses of `standard`, optionally only those under `chapters` (e.g. ["8", "9"])."""
    rows = LIBRARIES.get(standard, [])
    chapters = [c.strip() for c in chapters if c and c.strip()]
    if not chapters:
        return list(rows)
    return [
        c
        for c in rows
        if any(c.ref == ch or c.ref.startswith(ch + ".") or c.ref.startswith(ch + "-") for ch in chapters)
    ]
