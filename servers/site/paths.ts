/** Where the site origin serves corsproof's harness page (a module of its own: engines need only this). */
export const HARNESS_PATH = '/__corsproof/harness.html';
