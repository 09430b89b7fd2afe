// A place a file may be dropped on (the upload and publish pages): it shows when something
// is over it, and hands what was dropped to `dropped(files)`.
export function dropZone(zone, dropped) {
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropped(event.dataTransfer?.files ?? []);
  });
}

// Put a dropped file in a file input, as if it had been chosen there.
export function putInto(input, file) {
  const moved = new DataTransfer();
  moved.items.add(file);
  input.files = moved.files;
}
