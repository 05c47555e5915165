import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared test photos (../shared/data/photos beside the project); absent on a user's checkout. */
export const PHOTOS_DIR = fileURLToPath(new URL('../../../shared/data/photos/', import.meta.url));
export const hasPhotos = existsSync(PHOTOS_DIR);
export const photo = (name: string): string => `${PHOTOS_DIR}${name}`;
