// The book's figures, as a reader meets them: each opens at full size when clicked, and each
// is described by the section it illustrates (the stored outputs' alt text is a file name).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("article.bd-article img").forEach((img) => {
    if (img.src.startsWith("data:")) return; // a slider's frame: its controls swap the image
    const section = img.closest("section");
    const heading = section && section.querySelector("h1, h2, h3");
    const title = heading ? heading.textContent.replace(/#$/, "").trim() : document.title;
    if (!img.alt || img.alt.endsWith(".png")) {
      img.alt = `Figure of the section “${title}” (opens at full size)`;
    }
    if (img.closest("a") === null) {
      const link = document.createElement("a");
      link.href = img.src;
      link.target = "_blank";
      link.title = "Open the figure at full size";
      img.replaceWith(link);
      link.appendChild(img);
    }
  });
});
