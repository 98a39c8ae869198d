"""Screenshots of a published bilingual edition: the HTML wide and narrow, the printed PDF's first pages,
the EPUB's first page (headless Chromium; poppler's pdftoppm for the PDF).

    python scripts/screenshots.py [FOLDER] [--out bench_out/screens] [--pdf-pages 3]

FOLDER defaults to the Karpathy edition, aligned/004_*; it must hold NAME.html and NAME.epub (as
``bash scripts/build_editions.sh --export-only`` writes them). Written into --out (git-ignored):

- ``NAME.wide.png``: the HTML at 1400 x 2000 px (side by side);
- ``NAME.narrow.png``: the HTML at 400 px wide (interleaved). A headless window is at least 500 px
  wide, so the page is shown in a 400 px frame on a grey margin;
- ``NAME.pdf`` and ``NAME.print-1.png`` … : the page printed to PDF by Chromium (its A4 print CSS:
  page numbers, running head), the first pages at 60 dpi;
- ``NAME.epub-1.png``: the EPUB's first spine page (its title page) at 600 x 900, an e-reader's size,
  from the EPUB's own XHTML and CSS.

The review UI's screenshot is made by scripts/capture_review_screen.py.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
NARROW_FRAME = """<!DOCTYPE html><html><body style="margin:0;background:#c8c8cc">
<iframe src="{src}" style="display:block;margin:0 auto;width:400px;height:{height}px;border:0;background:#fff"></iframe>
</body></html>"""


def chromium(profile: Path, *args: str) -> None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        sys.exit("Error: chromium is not installed — apt-get install -y chromium fonts-noto-cjk")
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=300)


def epub_first_page(epub: Path, into: Path) -> Path:
    """Unpack the EPUB and return its first spine document."""
    with zipfile.ZipFile(epub) as archive:
        archive.extractall(into)
    container = ElementTree.parse(into / "META-INF" / "container.xml")
    rootfile = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").attrib["full-path"]
    opf_path = into / rootfile
    opf = ElementTree.parse(opf_path)
    ns = "{http://www.idpf.org/2007/opf}"
    manifest = {item.attrib["id"]: item.attrib["href"] for item in opf.iter(f"{ns}item")}
    first = next(opf.iter(f"{ns}itemref")).attrib["idref"]
    return opf_path.parent / manifest[first]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, help="a published edition folder [default: aligned/004_*]")
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out" / "screens")
    parser.add_argument("--pdf-pages", type=int, default=3, help="how many printed pages to render")
    args = parser.parse_args()
    folder = args.folder or next(iter(sorted((ROOT / "aligned").glob("004_*"))), None)
    if folder is None or not folder.is_dir():
        sys.exit("Error: no edition folder — give one, or build aligned/ with bash scripts/build_editions.sh")
    name = folder.name
    page, epub = folder / f"{name}.html", folder / f"{name}.epub"
    for path in (page, epub):
        if not path.is_file():
            sys.exit(f"Error: {path} is missing — bash scripts/build_editions.sh --export-only writes it")
    if shutil.which("pdftoppm") is None:
        sys.exit("Error: pdftoppm is not installed — apt-get install -y poppler-utils")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        profile = tmp / "profile"
        wide = out / f"{name}.wide.png"
        chromium(profile, "--window-size=1400,2000", f"--screenshot={wide}", page.resolve().as_uri())
        written.append(wide)

        frame = tmp / "narrow.html"
        frame.write_text(NARROW_FRAME.format(src=page.resolve().as_uri(), height=2000), encoding="utf-8")
        narrow = out / f"{name}.narrow.png"
        chromium(profile, "--window-size=500,2000", "--allow-file-access-from-files", f"--screenshot={narrow}",
                 frame.as_uri())
        written.append(narrow)

        pdf = out / f"{name}.pdf"
        chromium(profile, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri())
        written.append(pdf)
        prefix = out / f"{name}.print"
        subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", str(args.pdf_pages), "-png", str(pdf), str(prefix)],
                       check=True)
        # pdftoppm numbers its pages with as many digits as the document needs: name them -1, -2, ...
        for image in sorted(out.glob(f"{prefix.name}-*.png")):
            number = int(image.stem.rsplit("-", 1)[1])
            target = out / f"{prefix.name}-{number}.png"
            image.rename(target)
            written.append(target)

        first = epub_first_page(epub, tmp / "epub")
        epub_png = out / f"{name}.epub-1.png"
        chromium(profile, "--window-size=600,900", f"--screenshot={epub_png}", first.as_uri())
        written.append(epub_png)
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=sys.stderr)


if __name__ == "__main__":
    main()
