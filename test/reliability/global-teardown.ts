export { teardown as default } from './summary';
