"""Views of an artifact for other readers: JUnit XML for CI, Markdown for people."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.artifact.models import Artifact, Verdict


def junit_xml(artifact: Artifact) -> str:
    """One testcase per claim: falsified = failure, error = error, unverified = skipped."""
    counts = artifact.summary
    suite = ET.Element("testsuite", name=f"repro {artifact.bundle.paper.get('id', '') if artifact.bundle.paper else ''}".strip(),
                       tests=str(len(artifact.claims)), failures=str(counts["falsified"]),
                       errors=str(counts["error"]), skipped=str(counts["unverified"]),
                       time=f"{artifact.duration_s:.3f}")
    for claim in artifact.claims:
        case = ET.SubElement(suite, "testcase", classname=f"repro.{claim.kind}", name=claim.id,
                             time=f"{claim.run.duration_s:.3f}" if claim.run else "0")
        if claim.flags:
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="flags", value=",".join(claim.flags))
        tag = {Verdict.FALSIFIED: "failure", Verdict.ERROR: "error",
               Verdict.UNVERIFIED: "skipped"}.get(claim.verdict)
        if tag:
            element = ET.SubElement(case, tag, message=claim.reason)
            if claim.run and tag != "skipped":
                element.text = claim.run.stderr.tail
        ET.SubElement(case, "system-out").text = claim.reason
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


_ICON = {Verdict.VERIFIED: "✅", Verdict.FALSIFIED: "❌", Verdict.UNVERIFIED: "⚪", Verdict.ERROR: "⚠️"}


def markdown(artifact: Artifact) -> str:
    paper = artifact.bundle.paper or {}
    title = paper.get("title") or paper.get("id") or "bundle"
    lines = [f"# Reproducibility report: {title}", "",
             f"**Verdict: {artifact.verdict.value}** — "
             + ", ".join(f"{n} {v}" for v, n in artifact.summary.items() if n), "",
             f"- Bundle digest: `{artifact.bundle.digest}`"]
    if paper.get("doi"):
        lines.append(f"- DOI: {paper['doi']}")
    lines += [f"- repro {artifact.harness_version}, backend {artifact.options.backend}, "
              f"{artifact.finished_at}", "",
              "| claim | kind | evidence | verdict | reason |", "|---|---|---|---|---|"]
    for c in artifact.claims:
        reason = c.reason.replace("|", "\\|")
        flags = f" (flags: {', '.join(c.flags)})" if c.flags else ""
        lines.append(f"| `{c.id}` | {c.kind} | {c.evidence.value} | {_ICON[c.verdict]} "
                     f"{c.verdict.value} | {reason}{flags} |")
    return "\n".join(lines) + "\n"
